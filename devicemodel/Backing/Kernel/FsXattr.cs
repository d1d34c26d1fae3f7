using System.Runtime.InteropServices;

namespace XenVnvdimm.DeviceModel.Backing.Kernel;

/// <summary><c>struct fsxattr</c> (linux/fs.h), 28 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FsXattr
{
    public uint fsx_xflags;
    public uint fsx_extsize;
    public uint fsx_nextents;
    public uint fsx_projid;
    public uint fsx_cowextsize;
    public fixed byte fsx_pad[8];
}

/// <summary>Inode flag values with their C names (linux/fs.h, linux/stat.h).</summary>
internal static class InodeFlags
{
    /// <summary><c>FS_IMMUTABLE_FL</c>, from FS_IOC_GETFLAGS (<c>chattr +i</c>).</summary>
    public const int FS_IMMUTABLE_FL = 0x00000010;

    /// <summary><c>FS_XFLAG_REALTIME</c>: the file's data lives on XFS's realtime device.</summary>
    public const uint FS_XFLAG_REALTIME = 0x00000001;

    /// <summary><c>STATX_ATTR_IMMUTABLE</c>.</summary>
    public const ulong STATX_ATTR_IMMUTABLE = 0x00000010;

    /// <summary><c>STATX_ATTR_DAX</c> (Linux 5.8+): the file is accessed with DAX.</summary>
    public const ulong STATX_ATTR_DAX = 0x00200000;
}
