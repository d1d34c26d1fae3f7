using XenVnvdimm.DeviceModel.Backing;
using XenVnvdimm.Tests.Backing.Support;
using Xunit;

namespace XenVnvdimm.Tests.Backing;

/// <summary>
/// Backing resolution on real, loop-mounted filesystems made by the test. Every accepted file's runs
/// must equal <c>filefrag -v</c>'s extents (merged where physically contiguous); every refused file
/// must be refused for the reason and range filefrag shows.
/// </summary>
public abstract class RealFilesystemBackingTests
{
    protected const ulong SpaBase = 0x1_0000_0000;
    protected const long MiB = 1 << 20;

    protected abstract string FsType { get; }
    protected abstract int ImageMiB { get; }

    /// <summary>Writes a file of one extent per 4 KiB block, by whatever trick defeats this filesystem's allocator.</summary>
    internal abstract void MakeFragmentedFile(LoopFilesystem fs, string path, long bytes);

    internal LoopFilesystem Mount(ulong? partitionStartSector = null) => new(FsType, ImageMiB, partitionStartSector: partitionStartSector);

    protected static BackingResolution Resolve(string path, ulong? spaBase = SpaBase, bool zero = false, BackingLockMode lockMode = BackingLockMode.Probe)
        => BackingResolver.Resolve(path, new BackingOptions { AssumeSpaBase = spaBase, ZeroUnwritten = zero, Lock = lockMode });

    internal static void AssertRunsMatchFilefrag(BackingResolution r, string path, ulong partitionStart)
    {
        var extents = Filefrag.Extents(path);
        Assert.All(extents, e => Assert.False(e.Has("unwritten") || e.Has("shared"), $"test file unexpectedly has {string.Join(',', e.Flags)}"));
        var expected = Filefrag.ExpectedRuns(extents, partitionStart);
        var actual = r.Runs.Select(x => (x.FileOffset, x.DeviceOffset, x.Length)).ToList();
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected, actual);
        Assert.Equal(extents.Count, r.Extents);
        // Machine frames: the assumed SPA of device byte 0 plus filefrag's physical offset.
        var frames = r.FrameRuns().ToList();
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].File / 4096, frames[i].Gfn);
            Assert.Equal((SpaBase + expected[i].Device) / 4096, frames[i].Mfn);
            Assert.Equal(expected[i].Length / 4096, frames[i].Count);
        }
    }

    [Fact]
    public void ContiguousFileIsAcceptedWithFilefragsOffsets()
    {
        using var fs = Mount();
        string f = fs.PathOf("contiguous");
        FileMaker.Write(f, 32 * MiB);
        using var r = Resolve(f);
        Assert.True(r.Accepted, string.Join("; ", r.Refusals));
        Assert.Equal(FsType, r.FilesystemType);
        Assert.Equal(4096UL, r.FilesystemBlockSize);
        AssertRunsMatchFilefrag(r, f, 0);
        Assert.Equal(32UL * 256, r.Statistics().Pages);
    }

    [Fact]
    public void FragmentedFileWithThousandsOfExtentsMatchesFilefrag()
    {
        using var fs = Mount();
        string f = fs.PathOf("fragmented");
        MakeFragmentedFile(fs, f, 16 * MiB);
        using var r = BackingResolver.Resolve(f, new BackingOptions { AssumeSpaBase = SpaBase, FiemapBatch = 100 });
        Assert.True(r.Accepted, string.Join("; ", r.Refusals));
        Assert.True(r.Extents >= 2000, $"only {r.Extents} extents: the fragmentation setup did not work");
        Assert.True(r.FiemapCalls >= 2 * (r.Extents / 100), "extents must be streamed in batches");
        AssertRunsMatchFilefrag(r, f, 0);
    }

    [Fact]
    public void PartiallyUnwrittenFileIsRefusedOverFilefragsUnwrittenRangesThenZeroFilled()
    {
        using var fs = Mount();
        string f = fs.PathOf("prealloc");
        using (var h = File.OpenHandle(f, FileMode.Create, FileAccess.ReadWrite))
        {
            FileMaker.Fallocate(h, 0, 0, 8 * MiB);
            var data = new byte[2 * MiB];
            new Random(3).NextBytes(data);
            RandomAccess.Write(h, data, 2 * MiB); // written: [2M, 4M); unwritten: [0, 2M) and [4M, 8M)
            RandomAccess.FlushToDisk(h);
        }
        var unwritten = Filefrag.Extents(f).Where(e => e.Has("unwritten")).ToList();
        Assert.NotEmpty(unwritten);

        using (var r = Resolve(f))
        {
            Assert.False(r.Accepted);
            var refused = r.Refusals.Where(x => x.Reason == RefusalReason.Unwritten).Select(x => (x.Start, x.End)).ToList();
            var expected = Merge(unwritten.Select(e => (e.Logical, e.Logical + e.Length)));
            Assert.Equal(expected, refused);
            Assert.All(r.Refusals, x => Assert.Equal(RefusalReason.Unwritten, x.Reason));
            Assert.Contains("UNWRITTEN", r.Refusals[0].Detail, StringComparison.Ordinal);
        }

        using (var r = Resolve(f, zero: true))
        {
            Assert.True(r.Accepted, string.Join("; ", r.Refusals));
            Assert.Equal((ulong)unwritten.Sum(e => (long)e.Length), r.ZeroFilledBytes);
            AssertRunsMatchFilefrag(r, f, 0);
        }
        byte[] after = File.ReadAllBytes(f);
        Assert.True(after.AsSpan(0, (int)(2 * MiB)).IndexOfAnyExcept((byte)0) < 0);
        Assert.True(after.AsSpan((int)(4 * MiB)).IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal(new Random(3).NextBytes2(2 * MiB), after.AsSpan((int)(2 * MiB), (int)(2 * MiB)).ToArray());
    }

    [Fact]
    public void PreallocationBeyondEndOfFileIsNotMapped()
    {
        using var fs = Mount();
        string f = fs.PathOf("keepsize");
        FileMaker.Write(f, 2 * MiB);
        using (var h = File.OpenHandle(f, FileMode.Open, FileAccess.ReadWrite))
            FileMaker.Fallocate(h, 0x01 /* FALLOC_FL_KEEP_SIZE */, 2 * MiB, 2 * MiB);
        var extents = Filefrag.Extents(f);
        Assert.Contains(extents, e => e.Has("unwritten") && e.Logical >= 2 * MiB);
        using var r = Resolve(f);
        Assert.True(r.Accepted, string.Join("; ", r.Refusals));
        var inside = extents.Where(e => e.Logical < 2 * MiB)
            .Select(e => e with { Length = Math.Min(e.Length, 2UL * (ulong)MiB - e.Logical) });
        Assert.Equal(Filefrag.ExpectedRuns(inside, 0), r.Runs.Select(x => (x.FileOffset, x.DeviceOffset, x.Length)).ToList());
    }

    [Fact]
    public void SparseFileIsRefusedOverItsHoles()
    {
        using var fs = Mount();
        string f = fs.PathOf("sparse");
        using (var h = File.OpenHandle(f, FileMode.Create, FileAccess.ReadWrite))
        {
            RandomAccess.Write(h, new byte[MiB].Also(b => b.AsSpan().Fill(0x5a)), 1 * MiB);
            RandomAccess.Write(h, new byte[MiB].Also(b => b.AsSpan().Fill(0xa5)), 5 * MiB);
            RandomAccess.SetLength(h, 8 * MiB);
            RandomAccess.FlushToDisk(h);
        }
        // Holes are where filefrag shows no extent.
        var extents = Filefrag.Extents(f);
        var holes = new List<(ulong, ulong)>();
        ulong pos = 0;
        foreach (var e in extents)
        {
            if (e.Logical > pos)
                holes.Add((pos, e.Logical));
            pos = e.Logical + e.Length;
        }
        if (pos < 8 * MiB)
            holes.Add((pos, 8 * MiB));
        Assert.Equal(3, holes.Count);

        using var r = Resolve(f);
        Assert.False(r.Accepted);
        Assert.Equal(holes, r.Refusals.Where(x => x.Reason == RefusalReason.Hole).Select(x => (x.Start, x.End)).ToList());
        Assert.Equal(3, r.RefusalTotal);
        Assert.Equal(Filefrag.ExpectedRuns(extents, 0), r.Runs.Select(x => (x.FileOffset, x.DeviceOffset, x.Length)).ToList());
    }

    [Fact]
    public void SizeNotMultipleOfAlignmentIsRefused()
    {
        using var fs = Mount();
        string f = fs.PathOf("odd");
        FileMaker.Write(f, 3 * MiB);
        using var r = Resolve(f);
        var refusal = Assert.Single(r.Refusals);
        Assert.Equal(RefusalReason.SizeNotAligned, refusal.Reason);
        Assert.Equal((0UL, 3UL * (ulong)MiB), (refusal.Start, refusal.End));
        AssertRunsMatchFilefrag(r, f, 0);
    }

    [Fact]
    public void FileNotOnPmemIsRefusedWithoutAnAssumedSpaBase()
    {
        using var fs = Mount();
        string f = fs.PathOf("plain");
        FileMaker.Write(f, 2 * MiB);
        using var r = Resolve(f, spaBase: null);
        Assert.False(r.Accepted);
        Assert.Equal(RefusalReason.NotPmem, Assert.Single(r.Refusals).Reason);
        Assert.Null(r.Spa);
        Assert.Contains(Path.GetFileName(Shell.Run("findmnt", "-n", "-o", "SOURCE", fs.MountPoint).Trim()), r.Refusals[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void BackingLockedByAnotherGuestIsRefusedAsInUse()
    {
        using var fs = Mount();
        string f = fs.PathOf("locked");
        FileMaker.Write(f, 2 * MiB);
        using (var owner = Resolve(f, lockMode: BackingLockMode.Exclusive))
        {
            Assert.True(owner.Accepted, string.Join("; ", owner.Refusals));
            using var probe = Resolve(f);
            Assert.Equal(RefusalReason.InUse, Assert.Single(probe.Refusals).Reason);
            using var second = Resolve(f, lockMode: BackingLockMode.Exclusive);
            Assert.Equal(RefusalReason.InUse, Assert.Single(second.Refusals).Reason);
        }
        using var free = Resolve(f);
        Assert.True(free.Accepted, string.Join("; ", free.Refusals));
    }

    [Fact]
    public void ZeroFillNeverWritesToABackingAnotherGuestHolds()
    {
        using var fs = Mount();
        string f = fs.PathOf("held");
        using (var h = File.OpenHandle(f, FileMode.Create, FileAccess.ReadWrite))
            FileMaker.Fallocate(h, 0, 0, 2 * MiB);
        using var owner = Resolve(f, lockMode: BackingLockMode.Exclusive);
        using var r = Resolve(f, zero: true);
        Assert.Contains(r.Refusals, x => x.Reason == RefusalReason.InUse);
        Assert.Equal(0UL, r.ZeroFilledBytes);
        Assert.All(Filefrag.Extents(f), e => Assert.True(e.Has("unwritten")));
    }

    [Fact]
    public void FileChangingDuringResolutionIsRefusedAsChanged()
    {
        using var fs = Mount();
        string f = fs.PathOf("moving");
        FileMaker.WriteBackwards(f, 16 * MiB);
        // Between the two passes, a block is punched out and written again: it moves on disk and
        // mtime changes, exactly what a guest-visible remap during resolution would look like.
        void Rewrite()
        {
            using var h = File.OpenHandle(f, FileMode.Open, FileAccess.ReadWrite);
            FileMaker.PunchHole(h, 5 * 4096, 4096);
            RandomAccess.Write(h, new byte[4096], 5 * 4096);
            RandomAccess.FlushToDisk(h);
        }
        using var r = BackingResolver.Resolve(f, new BackingOptions { AssumeSpaBase = SpaBase, BetweenPasses = Rewrite });
        Assert.Contains(r.Refusals, x => x.Reason == RefusalReason.Changed);
    }

    [Fact]
    public void ImmutableFlagIsReportedAsPinned()
    {
        using var fs = Mount();
        string f = fs.PathOf("pinned");
        FileMaker.Write(f, 2 * MiB);
        Shell.Run("chmod", "600", f);
        using (var r = Resolve(f))
        {
            Assert.False(r.Pinning!.Immutable);
            Assert.False(r.Pinning.Pinned);
        }
        Shell.Run("chattr", "+i", f);
        try
        {
            Assert.Contains('i', Shell.Run("lsattr", f).Split(' ')[0]);
            using var r = Resolve(f);
            Assert.True(r.Pinning!.Immutable);
            Assert.True(r.Pinning.Pinned);
            Assert.Empty(r.Pinning.Recommendations);
            Assert.True(r.Accepted);
        }
        finally
        {
            Shell.Run("chattr", "-i", f);
        }
    }

    [Fact]
    public void PartitionedImageOffsetsIncludeThePartitionStart()
    {
        // 3 MiB + 4 KiB: deliberately not 2 MiB aligned, so a missing partition offset cannot hide.
        using var fs = Mount(partitionStartSector: 6152);
        Assert.Equal(6152UL * 512, fs.PartitionStart);
        string f = fs.PathOf("onpartition");
        FileMaker.Write(f, 8 * MiB);
        using var r = Resolve(f);
        Assert.True(r.Accepted, string.Join("; ", r.Refusals));
        Assert.Equal(fs.PartitionStart, r.Device!.PartitionStart);
        AssertRunsMatchFilefrag(r, f, fs.PartitionStart);
        // The resolved device offsets hold the file's bytes on the whole loop disk.
        using var disk = File.OpenRead(fs.Image);
        byte[] content = File.ReadAllBytes(f);
        foreach (var run in r.Runs)
        {
            var buf = new byte[run.Length];
            disk.Position = (long)run.DeviceOffset;
            disk.ReadExactly(buf);
            Assert.True(buf.AsSpan().SequenceEqual(content.AsSpan((int)run.FileOffset, (int)run.Length)));
        }
    }

    internal static List<(ulong, ulong)> Merge(IEnumerable<(ulong Start, ulong End)> ranges)
    {
        var list = new List<(ulong, ulong)>();
        foreach (var (s, e) in ranges)
        {
            if (list.Count > 0 && list[^1].Item2 == s)
                list[^1] = (list[^1].Item1, e);
            else
                list.Add((s, e));
        }
        return list;
    }
}

internal static class TestExtensions
{
    public static T Also<T>(this T value, Action<T> action)
    {
        action(value);
        return value;
    }

    public static byte[] NextBytes2(this Random random, long count)
    {
        var b = new byte[count];
        random.NextBytes(b);
        return b;
    }
}

public sealed class Ext4BackingTests : RealFilesystemBackingTests
{
    protected override string FsType => "ext4";
    protected override int ImageMiB => 128;

    // ext4's per-inode preallocation keeps even backwards writes contiguous: leave it only single free blocks.
    internal override void MakeFragmentedFile(LoopFilesystem fs, string path, long bytes)
    {
        FileMaker.FragmentFreeSpace(fs.MountPoint, holes: (int)(bytes / FileMaker.Block) + 1024);
        FileMaker.Write(path, bytes);
    }

    [Fact]
    public void BlockSizeOtherThan4096IsRefused()
    {
        using var fs = new LoopFilesystem("ext4", 64, blockSize: 1024);
        string f = fs.PathOf("small-blocks");
        FileMaker.Write(f, 2 * MiB);
        using var r = Resolve(f);
        Assert.Contains(r.Refusals, x => x.Reason == RefusalReason.BlockSize && x.Detail.Contains("1024", StringComparison.Ordinal));
    }

    [Fact]
    public void FileOnTmpfsIsRefusedAsUnsupported()
    {
        string dir = Directory.CreateTempSubdirectory("xvn-tmpfs-").FullName;
        Shell.Run("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", dir);
        try
        {
            string f = Path.Combine(dir, "f");
            FileMaker.Write(f, 2 * MiB);
            using var r = Resolve(f);
            var refusal = Assert.Single(r.Refusals);
            Assert.Equal(RefusalReason.Unsupported, refusal.Reason);
            Assert.Contains("tmpfs", refusal.Detail, StringComparison.Ordinal);
        }
        finally
        {
            Shell.Run("umount", dir);
            Directory.Delete(dir, true);
        }
    }
}

public sealed class XfsBackingTests : RealFilesystemBackingTests
{
    protected override string FsType => "xfs";
    protected override int ImageMiB => 320;

    // XFS places each synced block just below the previous one when written backwards.
    internal override void MakeFragmentedFile(LoopFilesystem fs, string path, long bytes) => FileMaker.WriteBackwards(path, bytes);

    [Fact]
    public void ReflinkedFilesAreRefusedOverFilefragsSharedRanges()
    {
        using var fs = Mount();
        string a = fs.PathOf("original");
        string b = fs.PathOf("clone");
        FileMaker.Write(a, 4 * MiB);
        Shell.Run("cp", "--reflink=always", a, b);
        foreach (string f in new[] { a, b })
        {
            var shared = Filefrag.Extents(f).Where(e => e.Has("shared")).ToList();
            Assert.NotEmpty(shared);
            using var r = Resolve(f);
            Assert.False(r.Accepted);
            Assert.All(r.Refusals, x => Assert.Equal(RefusalReason.Shared, x.Reason));
            Assert.Equal(Merge(shared.Select(e => (e.Logical, e.Logical + e.Length))),
                r.Refusals.Select(x => (x.Start, x.End)).ToList());
        }
    }
}
