using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XenVnvdimm.DeviceModel.Xen.Abi;

// Structures of xen/domctl.h (tools-only interface, x86_64).

/// <summary>struct xen_domctl: 16-byte header and a 128-byte union, 144 bytes in all.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal unsafe struct xen_domctl
{
    public uint cmd;
    public uint interface_version;
    public ushort domain;
    public fixed ushort _pad[3];
    public fixed byte u[128];

    /// <summary>The union member of type <typeparamref name="T"/>.</summary>
    [UnscopedRef]
    public ref T U<T>() where T : unmanaged
    {
        if (sizeof(T) > 128)
            throw new InvalidOperationException($"{typeof(T).Name} does not fit the domctl union");
        return ref Unsafe.As<byte, T>(ref u[0]);
    }
}

/// <summary>struct xen_domctl_iomem_permission.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct xen_domctl_iomem_permission
{
    public ulong first_mfn;
    public ulong nr_mfns;
    public byte allow_access;
}

/// <summary>struct xen_domctl_memory_mapping.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct xen_domctl_memory_mapping
{
    public ulong first_gfn;
    public ulong first_mfn;
    public ulong nr_mfns;
    public uint add_mapping;
    public uint padding;
}

/// <summary>
/// struct xen_domctl_getpageframeinfo3: <c>num</c> frames at <c>array</c> (at most 1,024), each a gfn on
/// the way in and its XEN_DOMCTL_PFINFO_* type on the way out.
/// </summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct xen_domctl_getpageframeinfo3
{
    public ulong num;
    public ulong array;
}

/// <summary>
/// struct xen_domctl_getdomaininfo (Xen 4.17): what Xen says of one domain. Before 4.18 Xen answers
/// about the first domain at or above the domid asked for, so <c>domain</c> must be compared.
/// </summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal unsafe struct xen_domctl_getdomaininfo
{
    public ushort domain;
    public ushort pad1;
    public uint flags;
    public ulong tot_pages;
    public ulong max_pages;
    public ulong outstanding_pages;
    public ulong shr_pages;
    public ulong paged_pages;
    public ulong shared_info_frame;
    public ulong cpu_time;
    public uint nr_online_vcpus;
    public uint max_vcpu_id;
    public uint ssidref;
    public fixed byte handle[16];
    public uint cpupool;
    public byte gpaddr_bits;
    public fixed byte pad2[7];
    /// <summary>struct xen_arch_domainconfig on x86: emulation_flags, misc_flags.</summary>
    public fixed uint arch_config[2];
}

/// <summary>DOMCTL commands and interface versions.</summary>
[AbiConstants]
internal static class DomctlConstants
{
    public const uint XEN_DOMCTL_getdomaininfo = 5;
    public const uint XEN_DOMINF_dying = 1U << 0;
    public const uint XEN_DOMCTL_iomem_permission = 20;
    public const uint XEN_DOMCTL_memory_mapping = 39;
    public const uint XEN_DOMCTL_getpageframeinfo3 = 61;
    public const uint XEN_DOMCTL_PFINFO_XTAB = 0xFU << 28;
    public const uint XEN_DOMCTL_PFINFO_BROKEN = 0xDU << 28;
    public const uint XEN_DOMCTL_PFINFO_LTAB_MASK = 0xFU << 28;
    public const uint DPCI_ADD_MAPPING = 1;
    public const uint DPCI_REMOVE_MAPPING = 0;

    /// <summary>The version of the headers this program is checked against (Xen 4.17).</summary>
    public const uint XEN_DOMCTL_INTERFACE_VERSION = 0x15;

    /// <summary>SYSCTL interface version of Xen 4.17 (see <see cref="SysctlVersions"/>).</summary>
    public const uint XEN_SYSCTL_INTERFACE_VERSION = 0x15;
}

/// <summary>
/// DOMCTL interface versions of Xen 4.17 (0x15), 4.18 (0x16), 4.19/4.20 (0x17) and later (0x18). The
/// structures we use did not change across them; Xen refuses any other version with -EACCES, so the
/// running hypervisor's version is found by trying these in order.
/// </summary>
internal static class DomctlVersions
{
    public static readonly uint[] Candidates = [0x15, 0x16, 0x17, 0x18];
}

/// <summary>
/// SYSCTL interface versions: 0x15 from Xen 4.17 to 4.20, 0x16 from 4.21. No SYSCTL is issued today; a
/// SYSCTL client would probe these with <see cref="Xen.InterfaceVersionProbe"/> as DOMCTLs do.
/// </summary>
internal static class SysctlVersions
{
    public static readonly uint[] Candidates = [0x15, 0x16];
}
