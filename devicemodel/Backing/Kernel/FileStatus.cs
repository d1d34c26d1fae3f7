namespace XenVnvdimm.DeviceModel.Backing.Kernel;

/// <summary>The parts of <c>statx</c> that backing resolution uses.</summary>
/// <param name="DevMajor">Major of the device holding the file's filesystem.</param>
/// <param name="DevMinor">Minor of that device.</param>
/// <param name="RdevMajor">Major of the device a device node stands for.</param>
/// <param name="RdevMinor">Minor of that device.</param>
/// <param name="Mode">File type and permission bits.</param>
/// <param name="Inode">Inode number.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Attributes">STATX_ATTR_* bits.</param>
/// <param name="ChangeTimeNs">ctime in nanoseconds since the epoch.</param>
/// <param name="ModifyTimeNs">mtime in nanoseconds since the epoch.</param>
internal readonly record struct FileStatus(
    uint DevMajor, uint DevMinor, uint RdevMajor, uint RdevMinor, uint Mode, ulong Inode, ulong Size,
    ulong Attributes, long ChangeTimeNs, long ModifyTimeNs)
{
    private const uint S_IFMT = 0xF000;
    private const uint S_IFREG = 0x8000;
    private const uint S_IFBLK = 0x6000;
    private const uint S_IFCHR = 0x2000;

    public bool IsRegular => (Mode & S_IFMT) == S_IFREG;
    public bool IsBlockDevice => (Mode & S_IFMT) == S_IFBLK;
    public bool IsCharDevice => (Mode & S_IFMT) == S_IFCHR;

    /// <summary>Permission bits that let users other than the owner read the file.</summary>
    public bool ReadableByOthers => (Mode & 0x24) != 0; // S_IRGRP | S_IROTH
}
