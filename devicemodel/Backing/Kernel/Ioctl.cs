namespace XenVnvdimm.DeviceModel.Backing.Kernel;

/// <summary>
/// ioctl request numbers used by backing resolution, computed the way the kernel's
/// <c>_IOC(dir, type, nr, size)</c> macro does (asm-generic/ioctl.h) so each number can be checked
/// against its C definition.
/// </summary>
internal static class Ioctl
{
    public const uint IOC_NONE = 0;
    public const uint IOC_WRITE = 1;
    public const uint IOC_READ = 2;

    private const int IOC_NRSHIFT = 0;
    private const int IOC_TYPESHIFT = 8;
    private const int IOC_SIZESHIFT = 16;
    private const int IOC_DIRSHIFT = 30;

    /// <summary>The kernel's <c>_IOC</c>: direction, type character, number and argument size.</summary>
    public static uint Ioc(uint dir, char type, uint nr, uint size)
        => (dir << IOC_DIRSHIFT) | ((uint)type << IOC_TYPESHIFT) | (nr << IOC_NRSHIFT) | (size << IOC_SIZESHIFT);

    /// <summary><c>FS_IOC_FIEMAP = _IOWR('f', 11, struct fiemap)</c> (linux/fs.h).</summary>
    public static readonly uint FS_IOC_FIEMAP = Ioc(IOC_READ | IOC_WRITE, 'f', 11, (uint)Fiemap.HeaderSize);

    /// <summary><c>FS_IOC_GETFLAGS = _IOR('f', 1, long)</c>; the kernel reads an int despite the declared long.</summary>
    public static readonly uint FS_IOC_GETFLAGS = Ioc(IOC_READ, 'f', 1, sizeof(long));

    /// <summary><c>FS_IOC_SETFLAGS = _IOW('f', 2, long)</c>; like GETFLAGS, the kernel reads an int.</summary>
    public static readonly uint FS_IOC_SETFLAGS = Ioc(IOC_WRITE, 'f', 2, sizeof(long));

    /// <summary><c>FS_IOC_FSGETXATTR = _IOR('X', 31, struct fsxattr)</c>.</summary>
    public static readonly unsafe uint FS_IOC_FSGETXATTR = Ioc(IOC_READ, 'X', 31, (uint)sizeof(FsXattr));
}
