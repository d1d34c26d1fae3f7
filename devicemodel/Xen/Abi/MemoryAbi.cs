using System.Runtime.InteropServices;

namespace XenVnvdimm.DeviceModel.Xen.Abi;

// Structures of xen/memory.h, plus the vNVDIMM series' XENMEM_populate_pmem_map argument.

/// <summary>struct xen_memory_reservation (XENMEM_populate_physmap for the mailbox page, XENMEM_decrease_reservation at teardown).</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct xen_memory_reservation
{
    public ulong extent_start;
    public ulong nr_extents;
    public uint extent_order;
    public uint mem_flags;
    public ushort domid;
}

/// <summary>struct xen_memory_domain (XENMEM_maximum_gpfn).</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct xen_memory_domain
{
    public ushort domid;
}

/// <summary>struct xen_mem_acquire_resource (issued by privcmd for IOCTL_PRIVCMD_MMAP_RESOURCE).</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct xen_mem_acquire_resource
{
    public ushort domid;
    public ushort type;
    public uint id;
    public uint nr_frames;
    public uint pad;
    public ulong frame;
    public ulong frame_list;
}

/// <summary>
/// The vNVDIMM series' XENMEM_populate_pmem_map argument {domid; mfn; gfn; nr_mfns; type}. It is not in
/// upstream headers: the C reference declares the same layout from the series' description.
/// </summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct xen_pmem_map
{
    public ushort domid;
    public ulong mfn;
    public ulong gfn;
    public uint nr_mfns;
    public uint type;
}

/// <summary>XENMEM operations and resource types.</summary>
[AbiConstants]
internal static class MemoryConstants
{
    public const uint XENMEM_decrease_reservation = 1;
    public const uint XENMEM_populate_physmap = 6;
    public const uint XENMEM_maximum_gpfn = 14;
    public const uint XENMEM_acquire_resource = 28;
    public const uint XENMEM_resource_ioreq_server = 0;
    public const uint XENMEM_resource_ioreq_server_frame_bufioreq = 0;

    /// <summary>XENMEM_resource_ioreq_server_frame_ioreq(0): the first synchronous ioreq page.</summary>
    public const uint XENMEM_resource_ioreq_server_frame_ioreq_0 = 1;

    /// <summary>The series' op number. Upstream later gave 28 to acquire_resource: a configurable default, not a constant of Xen.</summary>
    public const uint XENMEM_populate_pmem_map_series = 28;
    public const uint XEN_PMEM_TYPE_DATA = 0;
    public const uint XEN_PMEM_TYPE_LABEL = 1;
}
