using XenVnvdimm.DeviceModel.Backing.Extents;
using XenVnvdimm.DeviceModel.Backing.Identity;
using XenVnvdimm.DeviceModel.Backing.Kernel;
using XenVnvdimm.DeviceModel.Backing.Sysfs;

namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>Resolves a regular file: filesystem, device, namespace, then its extents, twice.</summary>
internal static class FileBackingResolver
{
    private const ulong RequiredBlockSize = 4096;
    private const ulong DefaultFileAlignment = 2UL << 20;
    private static readonly string[] s_supportedFilesystems = ["ext4", "xfs"];

    public static BackingResolution Resolve(NativeFile file, FileStatus status, BackingOptions options, NativeFile? lockHolder)
    {
        var r = new BackingResolution(file.Path, BackingKind.File, status.Size, lockHolder);
        var mount = MountEntry.Find(options.MountInfoPath, status.DevMajor, status.DevMinor);
        r.FilesystemType = mount?.FilesystemType;
        r.MountPoint = mount?.MountPoint;
        r.DaxMount = mount?.DaxAlways;
        r.FilesystemBlockSize = file.FilesystemBlockSize();

        bool immutable = ((file.InodeFlagsOrNull() ?? 0) & InodeFlags.FS_IMMUTABLE_FL) != 0;
        bool? daxFile = (status.Attributes & InodeFlags.STATX_ATTR_DAX) != 0 ? true : null;
        r.Pinning = PinningReport.For(file.Path, immutable, status.ReadableByOthers, daxFile);

        if (mount is null || !s_supportedFilesystems.Contains(mount.FilesystemType))
        {
            r.AddRefusal(new Refusal(RefusalReason.Unsupported, 0, status.Size,
                $"filesystem {mount?.FilesystemType ?? "(not in the mount table)"} is not ext4 or xfs"));
            return r;
        }
        if (file.FsXattrOrNull() is { } xattr && (xattr.fsx_xflags & InodeFlags.FS_XFLAG_REALTIME) != 0)
        {
            r.AddRefusal(new Refusal(RefusalReason.Unsupported, 0, status.Size,
                "the file's data is on the XFS realtime device, whose offsets FIEMAP does not relate to the data device"));
            return r;
        }
        if (r.FilesystemBlockSize != RequiredBlockSize)
            r.AddRefusal(new Refusal(RefusalReason.BlockSize, 0, status.Size,
                $"filesystem block size is {r.FilesystemBlockSize}, not {RequiredBlockSize}"));

        if (!DeviceMapping.Attach(r, options, status.DevMajor, status.DevMinor))
            return r;

        r.Alignment = options.Alignment ?? Math.Max(DefaultFileAlignment, r.Namespace?.Alignment ?? 0);
        if (status.Size == 0 || status.Size % r.Alignment != 0)
            r.AddRefusal(new Refusal(RefusalReason.SizeNotAligned, 0, status.Size,
                $"size 0x{status.Size:x} is not a non-zero multiple of the alignment 0x{r.Alignment:x}"));

        if (options.ZeroUnwritten)
            r.ZeroFilledBytes = ZeroFiller.Fill(file, status.Size, options.FiemapBatch);

        ResolveExtents(file, r, options);
        if (r.Spa is { } spa)
            CheckWindow(r, spa);
        return r;
    }

    // One pass over every run, like the FIEMAP passes: compiled optimized at once.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void CheckWindow(BackingResolution r, SpaMap spa)
    {
        var runs = r.Runs;
        var cursor = RunList.First;
        for (int i = 0; i < runs.Count; i++)
        {
            var run = runs.Read(ref cursor);
            if (!spa.Fits(run) && spa.Check(run) is { } outside)
                r.AddRefusal(outside);
        }
    }

    // Two passes: the first builds the list, the second compares against it, so a file that changed
    // between them (a write, a defrag, a reflink) is caught without holding a second list.
    private static void ResolveExtents(NativeFile file, BackingResolution r, BackingOptions options)
    {
        ulong partitionStart = r.Device!.PartitionStart;
        var before = file.Status();
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        var refusals = new RefusalList();
        // Each run is at least a page: address space for that many, committed only as the list fills.
        r.Runs.Reserve((long)Math.Min(before.Size / ResolvedRun.PageSize, long.MaxValue));
        var builder = new RunBuilder(before.Size, partitionStart, r.Runs, refusals);
        using (var reader = new FiemapReader(file, 0, before.Size, sync: true, options.FiemapBatch))
        {
            ExtentPump.Run(reader, builder);
            r.FiemapCalls += reader.Calls;
        }
        r.Extents = builder.Extents;
        long t1 = System.Diagnostics.Stopwatch.GetTimestamp();
        r.FirstPassTime = System.Diagnostics.Stopwatch.GetElapsedTime(t0, t1);

        options.BetweenPasses?.Invoke();
        var comparer = new RunComparer(r.Runs);
        var refusals2 = new RefusalList();
        var verify = new RunBuilder(before.Size, partitionStart, comparer, refusals2);
        using (var reader = new FiemapReader(file, 0, before.Size, sync: true, options.FiemapBatch))
        {
            ExtentPump.Run(reader, verify);
            r.FiemapCalls += reader.Calls;
        }
        comparer.Finish();
        r.VerifyPassTime = System.Diagnostics.Stopwatch.GetElapsedTime(t1);
        var after = file.Status();

        foreach (var refusal in refusals.Items)
            r.AddRefusal(refusal);
        r.RefusalTotal += refusals.Total - refusals.Items.Count;

        string? change = comparer.Mismatch is { } m ? $"second pass differs: {Describe(m.First)} became {Describe(m.Second)}"
            : refusals2.Total != refusals.Total ? "second pass found different refusals"
            : after.Size != before.Size ? $"size changed from 0x{before.Size:x} to 0x{after.Size:x}"
            : after.ModifyTimeNs != before.ModifyTimeNs || after.ChangeTimeNs != before.ChangeTimeNs ? "mtime/ctime changed during resolution"
            : null;
        if (change is not null)
            r.AddRefusal(new Refusal(RefusalReason.Changed, 0, before.Size, $"the file changed while it was resolved: {change}"));
    }

    private static string Describe(ResolvedRun? run)
        => run is { } x ? $"file 0x{x.FileOffset:x}+0x{x.Length:x} at device 0x{x.DeviceOffset:x}" : "nothing";
}
