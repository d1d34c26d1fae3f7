namespace XenVnvdimm.DeviceModel.Backing.Sysfs;

/// <summary>
/// A block device (whole disk or partition) as sysfs describes it.
/// </summary>
/// <param name="Name">Device name, e.g. <c>pmem0p1</c> or <c>loop3</c>.</param>
/// <param name="Disk">Whole-disk name, e.g. <c>pmem0</c>.</param>
/// <param name="PartitionStart">Byte offset of the partition on its disk (0 for a whole disk).</param>
/// <param name="Size">Size of this device in bytes.</param>
/// <param name="DiskSize">Size of the whole disk in bytes.</param>
/// <param name="Namespace">The pmem namespace behind the disk, or null when the disk is not pmem.</param>
/// <param name="LoopBackingFile">For a loop disk: the file it exposes.</param>
/// <param name="LoopOffset">For a loop disk: the offset into that file.</param>
public sealed record BlockDevice(
    string Name, string Disk, ulong PartitionStart, ulong Size, ulong DiskSize, NdNamespace? Namespace,
    string? LoopBackingFile, ulong LoopOffset)
{
    private const ulong SectorSize = 512; // sysfs start/size are always in 512-byte sectors

    /// <summary>Reads the block device <paramref name="major"/>:<paramref name="minor"/> from <paramref name="sysfs"/>.</summary>
    /// <exception cref="InvalidDataException">The device is missing or its nd topology is inconsistent.</exception>
    public static BlockDevice Read(SysfsTree sysfs, uint major, uint minor)
    {
        string dir = sysfs.Resolve($"dev/block/{major}:{minor}");
        if (!Directory.Exists(dir))
            throw new InvalidDataException($"block device {major}:{minor} is not in {sysfs.Root}/dev/block");
        bool partition = File.Exists(Path.Combine(dir, "partition"));
        string diskDir = partition ? Path.GetDirectoryName(dir)! : dir;
        ulong start = partition ? SysfsTree.ReadNumber(Path.Combine(dir, "start")) * SectorSize : 0;
        ulong size = SysfsTree.ReadNumber(Path.Combine(dir, "size")) * SectorSize;
        ulong diskSize = SysfsTree.ReadNumber(Path.Combine(diskDir, "size")) * SectorSize;

        string deviceLink = Path.Combine(diskDir, "device");
        NdNamespace? ns = Directory.Exists(deviceLink) ? NdTopology.FromDiskDevice(SysfsTree.Canonical(deviceLink)) : null;

        string? loopFile = SysfsTree.ReadText(Path.Combine(diskDir, "loop", "backing_file"));
        ulong loopOffset = SysfsTree.ReadNumberOrNull(Path.Combine(diskDir, "loop", "offset")) ?? 0;
        return new BlockDevice(Path.GetFileName(dir), Path.GetFileName(diskDir), start, size, diskSize, ns, loopFile, loopOffset);
    }
}
