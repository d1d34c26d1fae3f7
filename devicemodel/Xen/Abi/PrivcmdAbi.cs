using System.Runtime.InteropServices;

namespace XenVnvdimm.DeviceModel.Xen.Abi;

// Structures of Linux's xen/privcmd.h (x86_64: pointers and size_t are 8 bytes).

/// <summary>privcmd_hypercall_t.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal unsafe struct privcmd_hypercall
{
    public ulong op;
    public fixed ulong arg[5];
}

/// <summary>privcmd_mmapbatch_v2_t.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct privcmd_mmapbatch_v2
{
    public uint num;
    public ushort dom;
    public ulong addr;
    public ulong arr;
    public ulong err;
}

/// <summary>privcmd_dm_op_buf_t.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct privcmd_dm_op_buf
{
    public ulong uptr;
    public ulong size;
}

/// <summary>privcmd_dm_op_t.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct privcmd_dm_op
{
    public ushort dom;
    public ushort num;
    public ulong ubufs;
}

/// <summary>privcmd_mmap_resource_t.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct privcmd_mmap_resource
{
    public ushort dom;
    public uint type;
    public uint id;
    public uint idx;
    public ulong num;
    public ulong addr;
}

/// <summary>ioctl numbers of /dev/xen/privcmd, computed like the kernel header does.</summary>
[AbiConstants]
internal static unsafe class PrivcmdIoctls
{
    public static readonly uint IOCTL_PRIVCMD_HYPERCALL = Ioc.Make(Ioc._IOC_NONE, 'P', 0, sizeof(privcmd_hypercall));
    public static readonly uint IOCTL_PRIVCMD_MMAPBATCH_V2 = Ioc.Make(Ioc._IOC_NONE, 'P', 4, sizeof(privcmd_mmapbatch_v2));
    public static readonly uint IOCTL_PRIVCMD_DM_OP = Ioc.Make(Ioc._IOC_NONE, 'P', 5, sizeof(privcmd_dm_op));
    public static readonly uint IOCTL_PRIVCMD_RESTRICT = Ioc.Make(Ioc._IOC_NONE, 'P', 6, sizeof(ushort));
    public static readonly uint IOCTL_PRIVCMD_MMAP_RESOURCE = Ioc.Make(Ioc._IOC_NONE, 'P', 7, sizeof(privcmd_mmap_resource));
}
