using System.Security.Cryptography;
using XenVnvdimm.DeviceModel;
using XenVnvdimm.DeviceModel.Backing;
using XenVnvdimm.DeviceModel.Backing.Pinning;
using XenVnvdimm.Tests.Backing.Support;
using Xunit;

namespace XenVnvdimm.Tests.Backing;

/// <summary>
/// ImmutablePin on real loop-mounted filesystems: while pinned, the host's own tools (truncate,
/// fallocate, rm, cp --reflink, e4defrag/xfs_fsr) cannot free, move or replace the file's blocks —
/// judged by their exit status and error text, by filefrag's extents and by the data's digest — and
/// the flag is cleared at release only when the pin set it.
/// </summary>
public abstract class PinningTests
{
    protected const long MiB = 1 << 20;

    protected abstract string FsType { get; }

    internal LoopFilesystem Mount() => new(FsType, 320);

    protected static BackingResolution Hold(string path)
        => BackingResolver.Resolve(path, new BackingOptions { AssumeSpaBase = 0x1_0000_0000, Lock = BackingLockMode.Exclusive });

    protected static string Digest(string path) => Convert.ToHexString(MD5.HashData(File.ReadAllBytes(path)));

    protected static List<(ulong, ulong, ulong)> Blocks(string path) => Filefrag.ExpectedRuns(Filefrag.Extents(path), 0);

    protected static bool LsattrImmutable(string path) => Shell.Run("lsattr", "-d", path).Split(' ')[0].Contains('i');

    [Fact]
    public void PinnedFileCannotBeTruncatedPunchedRemovedOrReflinkedOnto()
    {
        using var fs = Mount();
        string f = fs.PathOf("guest.img"), other = fs.PathOf("other.img");
        FileMaker.Write(f, 8 * MiB);
        FileMaker.Write(other, 8 * MiB, seed: 7);
        string digest = Digest(f);
        var blocks = Blocks(f);
        using (var r = Hold(f))
        {
            Assert.True(ImmutablePin.Pin(r));
            Assert.True(LsattrImmutable(f));
            Shell.Refused("truncate", "-s", "0", f);
            Shell.Refused("fallocate", "--punch-hole", "--offset", "0", "--length", "1048576", f);
            Shell.Refused("rm", "-f", f);
            Shell.Refused("mv", f, fs.PathOf("renamed.img"));
            if (FsType == "xfs")
                Shell.Refused("cp", "--reflink=always", other, f);
            Assert.Equal(digest, Digest(f));
            Assert.Equal(blocks, Blocks(f));
        }
        // Still pinned after the resolution (and its lock) is gone: the pin outlives the process's hold.
        Assert.True(LsattrImmutable(f));
        Assert.Equal(digest, Digest(f));
        using (var probe = BackingResolver.Resolve(f, new BackingOptions { AssumeSpaBase = 0x1_0000_0000 }))
            Assert.Contains("unpinned", ImmutablePin.Unpin(f, probe.Identity), StringComparison.Ordinal);
        Assert.False(LsattrImmutable(f));
        Shell.Run("truncate", "-s", "0", f); // control: the same tool works once unpinned
        Assert.Equal(0, new FileInfo(f).Length);
    }

    [Fact]
    public void DefragmenterCannotMoveAPinnedFileButMovesItOnceUnpinned()
    {
        using var fs = Mount();
        string f = fs.PathOf("fragmented.img");
        Fragment(fs, f, 2 * MiB);
        var blocks = Blocks(f);
        Assert.True(blocks.Count >= 8, $"only {blocks.Count} extents: the fragmentation setup did not work");
        string digest = Digest(f);
        BackingIdentity id;
        using (var r = Hold(f))
        {
            id = r.Identity;
            Assert.True(ImmutablePin.Pin(r));
        }
        Defragment(f, expectRefusal: true);
        Assert.Equal(blocks, Blocks(f));
        Assert.Equal(digest, Digest(f));

        ImmutablePin.Unpin(f, id);
        Defragment(f, expectRefusal: false);
        Assert.True(Blocks(f).Count < blocks.Count, "control: the defragmenter moved nothing even unpinned, so the pinned run proved nothing");
        Assert.Equal(digest, Digest(f));
    }

    /// <summary>Writes a file of many extents, by whatever defeats this filesystem's allocator.</summary>
    internal abstract void Fragment(LoopFilesystem fs, string path, long bytes);

    /// <summary>Runs the filesystem's defragmenter on <paramref name="path"/>.</summary>
    protected abstract void Defragment(string path, bool expectRefusal);

    [Fact]
    public void AFileAlreadyImmutableIsReportedNotOursAndStaysImmutable()
    {
        using var fs = Mount();
        string f = fs.PathOf("admin-pinned.img");
        FileMaker.Write(f, 4 * MiB);
        Shell.Run("chattr", "+i", f);
        // Immutable files cannot be opened for writing: resolved read-only under a shared lock.
        using (var r = Hold(f))
        {
            Assert.True(r.Accepted, string.Join("; ", r.Refusals));
            Assert.True(ImmutablePin.IsSet(r));
            Assert.False(ImmutablePin.Pin(r));
        }
        Assert.True(LsattrImmutable(f));
        Shell.Run("chattr", "-i", f);
    }

    [Fact]
    public void AFlagThatCannotBeSetIsAOneLineErrorNamingFileAndErrno()
    {
        // ramfs has no inode flags at all: FS_IOC_GETFLAGS/SETFLAGS fail with ENOTTY.
        string dir = Directory.CreateTempSubdirectory("xvn-ramfs-").FullName;
        Shell.Run("mount", "-t", "ramfs", "ramfs", dir);
        try
        {
            string f = Path.Combine(dir, "guest.img");
            FileMaker.Write(f, 1 * MiB);
            using var r = Hold(f);
            var e = Assert.Throws<UserErrorException>(() => ImmutablePin.Pin(r));
            Assert.Contains(f, e.Message, StringComparison.Ordinal);
            Assert.Contains("errno 25", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
        }
        finally
        {
            Shell.Run("umount", dir);
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>Pinning on ext4.</summary>
public sealed class Ext4PinningTests : PinningTests
{
    protected override string FsType => "ext4";

    // Each block of the file, then a block of a pad file, each synced: the pads sit between the file's blocks.
    internal override void Fragment(LoopFilesystem fs, string path, long bytes)
    {
        var block = new byte[FileMaker.Block];
        using var file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite);
        using var pad = File.OpenHandle(fs.PathOf("pad"), FileMode.Create, FileAccess.ReadWrite);
        for (long at = 0; at < bytes; at += block.Length)
        {
            Random.Shared.NextBytes(block);
            RandomAccess.Write(file, block, at);
            RandomAccess.FlushToDisk(file);
            RandomAccess.Write(pad, block, at);
            RandomAccess.FlushToDisk(pad);
        }
    }

    protected override void Defragment(string path, bool expectRefusal)
    {
        var (code, stdout, stderr) = Shell.Run("e4defrag", ["-v", path], check: false);
        if (expectRefusal)
        {
            Assert.NotEqual(0, code);
            Assert.Contains("Operation not permitted", stdout + stderr, StringComparison.Ordinal);
        }
        else
            Assert.True(code == 0, stdout + stderr);
    }
}

/// <summary>Pinning on XFS, where reflink exists.</summary>
public sealed class XfsPinningTests : PinningTests
{
    protected override string FsType => "xfs";

    internal override void Fragment(LoopFilesystem fs, string path, long bytes) => FileMaker.WriteBackwards(path, bytes);

    // xfs_fsr skips an immutable file and exits 0 (it reports nothing without -v): the extents are the judge.
    protected override void Defragment(string path, bool expectRefusal)
    {
        var (code, stdout, stderr) = Shell.Run("xfs_fsr", ["-v", path], check: false);
        Assert.True(code == 0, stdout + stderr);
    }

    [Fact]
    public void AReflinkFromAPinnedFileIsNotStoppedByTheFlagButLeavesItsBlocksAndIsSeenAsShared()
    {
        // The VFS checks immutability of the clone's destination only: root can still share a pinned
        // file's blocks. Its own blocks and data stay, and the next resolution (re-attach) sees the sharing.
        using var fs = Mount();
        string f = fs.PathOf("guest.img"), clone = fs.PathOf("clone.img");
        FileMaker.Write(f, 4 * MiB);
        string digest = Digest(f);
        var blocks = Blocks(f);
        using (var r = Hold(f))
            Assert.True(ImmutablePin.Pin(r));
        Shell.Run("cp", "--reflink=always", f, clone);
        Assert.Equal(blocks, Blocks(f));
        Assert.Equal(digest, Digest(f));
        using (var again = Hold(f))
            Assert.Contains(again.Refusals, x => x.Reason == RefusalReason.Shared);
        Shell.Run("chattr", "-i", f);
    }
}
