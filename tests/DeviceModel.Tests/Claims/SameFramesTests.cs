using System.Text.Json;
using XenVnvdimm.DeviceModel;
using XenVnvdimm.DeviceModel.Backing;
using XenVnvdimm.DeviceModel.Claims;
using XenVnvdimm.Tests.Backing.Support;
using Xunit;

namespace XenVnvdimm.Tests.Claims;

/// <summary>
/// Real backings through <see cref="MapGuard"/>: whatever path names the frames — a disk and its
/// partition, a mknod alias, a hard link — a second claim is refused naming the holder, even after the
/// first holder's process gave up its locks (its resolution disposed). Files are pinned with the claim,
/// and unpinned at release only when the claim set the flag.
/// </summary>
public sealed class SameFramesTests : IDisposable
{
    private const ulong SpaBase = 0x1_0000_0000;
    private readonly string _work = Directory.CreateTempSubdirectory("xvn-frames-").FullName;
    private readonly TestLiveness _live = new();
    private readonly List<string> _loops = [];

    private string ClaimsDir => Path.Combine(_work, "claims");

    private MapGuard Guard(ushort domid) => new(new ClaimRegistry(ClaimsDir, _live), domid, $"dom{domid}@test", hostPmem: null);

    private static BackingResolution Attach(string path)
        => BackingResolver.Resolve(path, new BackingOptions { AssumeSpaBase = SpaBase, Lock = BackingLockMode.Exclusive, Alignment = 4096 });

    // The runs as the companion computes them: placed at some guest address (here 4 GiB + slot).
    private static List<DeviceModel.Memory.FrameRun> Runs(BackingResolution r) => [.. r.FrameRuns()];

    private JsonElement ClaimFile(ushort domid, int slot) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(ClaimsDir, $"d{domid}.s{slot}.claim"))).RootElement;

    [Fact]
    public void ADiskItsPartitionAndAMknodAliasAreTheSameFrames()
    {
        string image = Path.Combine(_work, "disk.img");
        using (var f = File.Create(image))
            f.SetLength(64L << 20);
        var psi = new System.Diagnostics.ProcessStartInfo("sfdisk", ["--quiet", "--label", "dos", image]) { RedirectStandardInput = true };
        using (var p = System.Diagnostics.Process.Start(psi)!)
        {
            p.StandardInput.Write("start=2048, type=83\n");
            p.StandardInput.Close();
            p.WaitForExit();
        }
        string loop = Shell.Run("losetup", "--find", "--show", "--partscan", image).Trim();
        _loops.Add(loop);
        var (part, created) = Shell.PartitionNode(loop);
        try
        {
            using (var whole = Attach(loop))
            {
                Assert.True(whole.Accepted, string.Join("; ", whole.Refusals));
                Guard(5).Admit(whole, 1, loop, Runs(whole));
            }
            // The holder's locks are gone (as after kill -9); the claim is not.
            using (var p1 = Attach(part))
            {
                Assert.True(p1.Accepted, string.Join("; ", p1.Refusals));
                var e = Assert.Throws<UserErrorException>(() => Guard(6).Admit(p1, 0, part, Runs(p1)));
                ulong first = SpaBase + (2048UL * 512);
                Assert.Equal($"{part}: frames 0x{first:x}-0x{SpaBase + (64UL << 20) - 1:x} are mapped into dom5 slot 1 (backend {loop}); refusing to map them into dom6 slot 0", e.Message);
            }
            string[] mm = File.ReadAllText($"/sys/class/block/{Path.GetFileName(loop)}/dev").Trim().Split(':');
            string alias = Path.Combine(_work, "alias");
            Shell.Run("mknod", alias, "b", mm[0], mm[1]);
            using (var a = Attach(alias))
            {
                var e = Assert.Throws<UserErrorException>(() => Guard(5).Admit(a, 2, alias, Runs(a)));
                Assert.Contains("are mapped into dom5 slot 1", e.Message, StringComparison.Ordinal);
            }
            // Devices are not pinned: nothing recorded as ours to clear.
            Assert.False(ClaimFile(5, 1).GetProperty("pinned_by_us").GetBoolean());
        }
        finally
        {
            if (created)
                File.Delete(part);
            Shell.Run("partx", ["-d", loop], check: false);
        }
    }

    [Fact]
    public void AHardLinkIsTheSameFramesAndTheClaimPinsTheFileUntilReleased()
    {
        using var fs = new LoopFilesystem("ext4", 128);
        string a = fs.PathOf("a.img"), b = fs.PathOf("b.img");
        FileMaker.Write(a, 4L << 20);
        Shell.Run("ln", a, b);
        using (var r = Attach(a))
        {
            var claim = Guard(5).Admit(r, 0, a, Runs(r));
            Assert.True(claim.PinnedByUs);
        }
        Assert.True(Lsattr(a));
        Assert.True(ClaimFile(5, 0).GetProperty("pinned_by_us").GetBoolean());
        using (var r = Attach(b))
        {
            var e = Assert.Throws<UserErrorException>(() => Guard(6).Admit(r, 0, b, Runs(r)));
            Assert.Contains($"are mapped into dom5 slot 0 (backend {a})", e.Message, StringComparison.Ordinal);
        }
        // A refused claim pins nothing and changes nothing.
        Assert.Single(Directory.GetFiles(ClaimsDir, "*.claim"));

        // The domain is gone: the next claim (of anything) reaps its claim and clears the flag it set.
        _live.Gone.Add(5);
        using (var r = Attach(b))
            Guard(6).Admit(r, 0, b, Runs(r));
        Assert.True(Lsattr(a)); // now dom6's pin (re-set by its own claim)
        Assert.True(ClaimFile(6, 0).GetProperty("pinned_by_us").GetBoolean());
        new ClaimRegistry(ClaimsDir, _live).Release(6);
        Assert.False(Lsattr(a));
        Assert.Empty(Directory.GetFiles(ClaimsDir, "*.claim"));
    }

    [Fact]
    public void AFileImmutableBeforeTheClaimStaysImmutableAfterRelease()
    {
        using var fs = new LoopFilesystem("xfs", 320);
        string f = fs.PathOf("admin.img");
        FileMaker.Write(f, 4L << 20);
        Shell.Run("chattr", "+i", f);
        using (var r = Attach(f))
            Assert.False(Guard(5).Admit(r, 0, f, Runs(r)).PinnedByUs);
        Assert.False(ClaimFile(5, 0).GetProperty("pinned_by_us").GetBoolean());
        new ClaimRegistry(ClaimsDir, _live).Release(5);
        Assert.True(Lsattr(f));
        Shell.Run("chattr", "-i", f);
    }

    [Fact]
    public void ReattachReusesTheClaimAndSetsAMissingFlagAgain()
    {
        using var fs = new LoopFilesystem("ext4", 128);
        string f = fs.PathOf("guest.img");
        FileMaker.Write(f, 4L << 20);
        using (var r = Attach(f))
            Guard(5).Admit(r, 0, f, Runs(r));
        Shell.Run("chattr", "-i", f); // an administrator's mistake while the guest runs
        var guard = Guard(5);
        using (var r = Attach(f))
        {
            var claim = guard.Admit(r, 0, f, Runs(r));
            Assert.True(claim.PinnedByUs);
        }
        Assert.True(Lsattr(f));
        guard.Rollback(0); // a re-used claim is not this guard's to roll back
        Assert.Single(Directory.GetFiles(ClaimsDir, "*.claim"));
        guard.ReleaseDomain();
        Assert.False(Lsattr(f));
    }

    private static bool Lsattr(string path) => Shell.Run("lsattr", "-d", path).Split(' ')[0].Contains('i');

    public void Dispose()
    {
        foreach (string l in _loops)
            Shell.Run("losetup", ["-d", l], check: false);
        Directory.Delete(_work, recursive: true);
    }
}
