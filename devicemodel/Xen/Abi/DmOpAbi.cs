using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XenVnvdimm.DeviceModel.Xen.Abi;

// Structures of xen/hvm/dm_op.h.

/// <summary>struct xen_dm_op: op, pad and a union whose largest member is 24 bytes (32 bytes in all).</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal unsafe struct xen_dm_op
{
    public uint op;
    public uint pad;
    public fixed ulong u[3];

    /// <summary>The union member of type <typeparamref name="T"/>.</summary>
    [UnscopedRef]
    public ref T U<T>() where T : unmanaged
    {
        if (sizeof(T) > 24)
            throw new InvalidOperationException($"{typeof(T).Name} does not fit the dm_op union");
        return ref Unsafe.As<ulong, T>(ref u[0]);
    }
}

/// <summary>struct xen_dm_op_create_ioreq_server.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal unsafe struct xen_dm_op_create_ioreq_server
{
    public byte handle_bufioreq;
    public fixed byte pad[3];
    public ushort id;
}

/// <summary>struct xen_dm_op_ioreq_server_range (map/unmap_io_range).</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct xen_dm_op_ioreq_server_range
{
    public ushort id;
    public ushort pad;
    public uint type;
    public ulong start;
    public ulong end;
}

/// <summary>struct xen_dm_op_set_ioreq_server_state.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct xen_dm_op_set_ioreq_server_state
{
    public ushort id;
    public byte enabled;
    public byte pad;
}

/// <summary>struct xen_dm_op_destroy_ioreq_server.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct xen_dm_op_destroy_ioreq_server
{
    public ushort id;
    public ushort pad;
}

/// <summary>struct xen_dm_op_set_isa_irq_level.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct xen_dm_op_set_isa_irq_level
{
    public byte isa_irq;
    public byte level;
}

/// <summary>struct xen_dm_op_set_irq_level.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal unsafe struct xen_dm_op_set_irq_level
{
    public uint irq;
    public byte level;
    public fixed byte pad[3];
}

/// <summary>struct xen_dm_op_nr_vcpus.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct xen_dm_op_nr_vcpus
{
    public uint vcpus;
}

/// <summary>struct xen_dm_op_buf (what privcmd passes on to Xen).</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct xen_dm_op_buf
{
    public ulong h;
    public ulong size;
}

/// <summary>DMOP numbers and range types.</summary>
[AbiConstants]
internal static class DmOpConstants
{
    public const uint XEN_DMOP_create_ioreq_server = 1;
    public const uint XEN_DMOP_map_io_range_to_ioreq_server = 3;
    public const uint XEN_DMOP_unmap_io_range_from_ioreq_server = 4;
    public const uint XEN_DMOP_set_ioreq_server_state = 5;
    public const uint XEN_DMOP_destroy_ioreq_server = 6;
    public const uint XEN_DMOP_set_isa_irq_level = 9;
    public const uint XEN_DMOP_set_irq_level = 19;
    public const uint XEN_DMOP_nr_vcpus = 20;
    public const uint XEN_DMOP_IO_RANGE_PORT = 0;
    public const uint XEN_DMOP_IO_RANGE_MEMORY = 1;
    public const uint XEN_DMOP_IO_RANGE_PCI = 2;
    public const byte HVM_IOREQSRV_BUFIOREQ_OFF = 0;
}
