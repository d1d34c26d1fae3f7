using XenVnvdimm.DeviceModel.Backing.Identity;
using XenVnvdimm.DeviceModel.Backing.Kernel;
using XenVnvdimm.DeviceModel.Backing.Sysfs;

namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>
/// Resolves a whole pmem block device or partition, or a device-dax instance: one run covering the
/// device, placed by the namespace's SPA.
/// </summary>
internal static class DeviceBackingResolver
{
    public static BackingResolution Resolve(NativeFile file, FileStatus status, BackingOptions options, NativeFile? lockHolder)
        => status.IsBlockDevice
            ? ResolveBlock(file, status, options, lockHolder)
            : ResolveDax(file, status, options, lockHolder);

    private static BackingResolution ResolveBlock(NativeFile file, FileStatus status, BackingOptions options, NativeFile? lockHolder)
    {
        BlockDevice device;
        try
        {
            device = BlockDevice.Read(options.Sysfs, status.RdevMajor, status.RdevMinor);
        }
        catch (InvalidDataException e)
        {
            var refused = new BackingResolution(file.Path, BackingKind.PmemDevice, 0, lockHolder);
            refused.AddRefusal(new Refusal(RefusalReason.Unsupported, 0, 0, e.Message));
            return refused;
        }
        var r = new BackingResolution(file.Path, BackingKind.PmemDevice, device.Size, lockHolder)
        {
            Device = device,
            Namespace = device.Namespace,
        };
        DeviceMapping.ChooseSpa(r, options, device.DiskSize);
        DeviceMapping.ProtectRawMetadata(r, options);
        r.Alignment = options.Alignment ?? r.Namespace?.Alignment ?? ResolvedRun.PageSize;
        CheckSize(r);
        RefuseIfInUse(r, options, status.RdevMajor, status.RdevMinor);
        AddWholeDeviceRun(r, device.PartitionStart);
        return r;
    }

    private static BackingResolution ResolveDax(NativeFile file, FileStatus status, BackingOptions options, NativeFile? lockHolder)
    {
        string dir = options.Sysfs.Resolve($"dev/char/{status.RdevMajor}:{status.RdevMinor}");
        NdNamespace? ns;
        try
        {
            ns = File.Exists(Path.Combine(dir, "resource")) && File.Exists(Path.Combine(dir, "align"))
                ? NdTopology.FromDaxDevice(dir)
                : throw new InvalidDataException($"{file.Path} is a character device but not a device-dax instance");
        }
        catch (InvalidDataException e)
        {
            var refused = new BackingResolution(file.Path, BackingKind.DaxDevice, 0, lockHolder);
            refused.AddRefusal(new Refusal(RefusalReason.Unsupported, 0, 0, e.Message));
            return refused;
        }
        ulong size = SysfsTree.ReadNumber(Path.Combine(dir, "size"));
        var r = new BackingResolution(file.Path, BackingKind.DaxDevice, size, lockHolder) { Namespace = ns };
        // A dax device not made from a pmem namespace (hmem: soft-reserved, volatile memory) is not persistent.
        DeviceMapping.ChooseSpa(r, options, size);
        r.Alignment = options.Alignment ?? SysfsTree.ReadNumberOrNull(Path.Combine(dir, "align")) ?? ns?.Alignment ?? ResolvedRun.PageSize;
        CheckSize(r);
        AddWholeDeviceRun(r, 0);
        return r;
    }

    private static void CheckSize(BackingResolution r)
    {
        if (r.Size == 0 || r.Size % r.Alignment != 0)
            r.AddRefusal(new Refusal(RefusalReason.SizeNotAligned, 0, r.Size,
                $"size 0x{r.Size:x} is not a non-zero multiple of the alignment 0x{r.Alignment:x}"));
    }

    private static void AddWholeDeviceRun(BackingResolution r, ulong deviceOffset)
    {
        if (r.Size == 0)
            return;
        var run = new ResolvedRun(0, deviceOffset, r.Size);
        r.Runs.Add(run);
        if (r.Spa?.Check(run) is { } outside)
            r.AddRefusal(outside);
    }

    // A pmem device that dom0 uses (mounted, swap, under dm/md/LVM), or whose disk or partition it
    // uses, belongs to dom0: one refusal per use, each naming the user.
    private static void RefuseIfInUse(BackingResolution r, BackingOptions options, uint major, uint minor)
    {
        foreach (string use in BlockDeviceUsers.Find(options.Sysfs, major, minor, options.MountInfoPath, options.SwapsPath))
            r.AddRefusal(new Refusal(RefusalReason.InUse, 0, r.Size, use));
    }
}
