using System.Diagnostics;
using System.Text.Json;
using XenVnvdimm.DeviceModel;
using XenVnvdimm.DeviceModel.Backing.Pinning;
using XenVnvdimm.DeviceModel.Claims;
using Xunit;
using Xunit.Abstractions;

namespace XenVnvdimm.Tests.Claims;

/// <summary>A liveness port the test controls: domains are alive until the test says they are gone.</summary>
internal sealed class TestLiveness : IDomainLiveness
{
    public HashSet<ushort> Gone { get; } = [];

    public int Asked;

    public bool IsAlive(ushort domid)
    {
        Interlocked.Increment(ref Asked);
        lock (Gone)
            return !Gone.Contains(domid);
    }
}

/// <summary>The claim registry's rules on a private directory, without backings: frames are the key.</summary>
public sealed class ClaimRegistryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Directory.CreateTempSubdirectory("xvn-claims-").FullName, "claims");
    private readonly TestLiveness _live = new();
    private readonly ITestOutputHelper _out;

    public ClaimRegistryTests(ITestOutputHelper output) => _out = output;

    private ClaimRegistry Registry() => new(_dir, _live);

    internal static FrameClaim Request(ushort domid, int slot, string backend, params (ulong Mfn, ulong Count)[] frames) =>
        new(domid, $"dom{domid}@test", slot, backend, null, new BackingIdentity(259, 0, (ulong)slot + 1000u * domid), false,
            [.. frames.Select(f => new MfnRange(f.Mfn, f.Count))], Environment.ProcessId, DateTimeOffset.UtcNow);

    [Fact]
    public void ASecondDomainIsRefusedNamingTheHolderAndTheOverlappingFrames()
    {
        var (first, reused) = Registry().Claim(Request(5, 1, "/dev/pmem0", (0x100000, 0x8000)));
        Assert.False(reused);
        Assert.Equal(0x100000UL, Assert.Single(first.Frames).First);
        var e = Assert.Throws<UserErrorException>(() => Registry().Claim(Request(6, 0, "/dev/pmem0p1", (0x100800, 0x1000))));
        Assert.Equal("/dev/pmem0p1: frames 0x100800000-0x1017fffff are mapped into dom5 slot 1 (backend /dev/pmem0); refusing to map them into dom6 slot 0", e.Message);
        Assert.Single(Registry().List());
    }

    [Fact]
    public void TheSameDomainCannotMapTheSameFramesTwiceButReattachReusesItsOwnClaim()
    {
        var r = Registry();
        r.Claim(Request(5, 0, "/pmem/a.img", (0x200000, 0x10), (0x200100, 0x10)));
        // A hot-add whose backing is the same frames under another slot: refused, naming slot 0.
        var e = Assert.Throws<UserErrorException>(() => r.Claim(Request(5, 1, "/pmem/link-to-a.img", (0x200108, 0x4))));
        Assert.Contains("frames 0x200108000-0x20010bfff are mapped into dom5 slot 0 (backend /pmem/a.img)", e.Message, StringComparison.Ordinal);
        // A re-attach of slot 0 with the same frames (listed in another order): the claim is re-used.
        var (again, reused) = Registry().Claim(Request(5, 0, "/pmem/a.img", (0x200100, 0x10), (0x200000, 0x10)));
        Assert.True(reused);
        Assert.Equal(2, again.Frames.Count);
        // The same slot with other frames is not a re-attach.
        Assert.Throws<UserErrorException>(() => r.Claim(Request(5, 0, "/pmem/b.img", (0x300000, 0x10))));
    }

    [Fact]
    public void ClaimsOfADeadDomainAreReapedByTheNextClaimAndOnlyThen()
    {
        Registry().Claim(Request(5, 0, "/dev/pmem0", (0x100000, 0x100)));
        Assert.Throws<UserErrorException>(() => Registry().Claim(Request(7, 0, "/dev/pmem0", (0x100000, 0x100))));
        _live.Gone.Add(5);
        var (claim, _) = Registry().Claim(Request(7, 0, "/dev/pmem0", (0x100000, 0x100)));
        Assert.Equal(7, claim.Domid);
        Assert.Equal([7], Registry().List().Select(c => (int)c.Domid));
    }

    [Fact]
    public void ReapDropsOnlyDeadDomainsAndReleaseDropsOneSlotOrAll()
    {
        var r = Registry();
        r.Claim(Request(5, 0, "a", (0x1000, 1)));
        r.Claim(Request(5, 1, "b", (0x2000, 1)));
        r.Claim(Request(6, 0, "c", (0x3000, 1)));
        r.Claim(Request(8, 0, "d", (0x4000, 1)));
        _live.Gone.Add(6);
        var lines = r.Reap();
        Assert.Equal(["released frames 0x3000000-0x3000fff of dom6 slot 0 (backend c)"], lines);
        r.Release(5, slot: 1);
        Assert.Equal([(5, 0), (8, 0)], r.List().Select(c => ((int)c.Domid, c.Slot)));
        r.Release(5);
        Assert.Equal([8], r.List().Select(c => (int)c.Domid));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void FilesArePrivateAndASymlinkedDirectoryIsRefused()
    {
        Registry().Claim(Request(5, 0, "a", (0x1000, 1)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_dir));
        foreach (string f in Directory.GetFiles(_dir))
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f));
        var claim = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "d5.s0.claim"))).RootElement;
        Assert.Equal(5, claim.GetProperty("domid").GetInt32());
        Assert.Equal(0x1000UL, claim.GetProperty("frames")[0].GetProperty("first").GetUInt64());

        string link = _dir + "-link";
        File.CreateSymbolicLink(link, _dir);
        var e = Assert.Throws<UserErrorException>(() => new ClaimRegistry(link, _live).List());
        Assert.Contains(link, e.Message, StringComparison.Ordinal);

        File.SetUnixFileMode(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        Assert.Throws<UserErrorException>(() => Registry().List());
    }

    [Fact]
    public void AClaimFileThatDoesNotParseRefusesEveryClaimRatherThanGuess()
    {
        Registry().Claim(Request(5, 0, "a", (0x1000, 1)));
        File.WriteAllText(Path.Combine(_dir, "d9.s0.claim"), "{ torn");
        var e = Assert.Throws<UserErrorException>(() => Registry().Claim(Request(6, 0, "b", (0x9000, 1))));
        Assert.Contains("d9.s0.claim", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RacingClaimantsOnSeparateDescriptorsNeverBothWin()
    {
        // Open-file-description locks conflict between descriptors even in one process: each thread
        // is a separate claimant, as separate companions are.
        for (int round = 0; round < 20; round++)
        {
            int won = 0, refused = 0;
            Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            {
                try
                {
                    new ClaimRegistry(_dir, _live).Claim(Request((ushort)(10 + i), 0, $"path{i}", ((ulong)(0x500000 + round * 0x100 + i), 0x100)));
                    Interlocked.Increment(ref won);
                }
                catch (UserErrorException)
                {
                    Interlocked.Increment(ref refused);
                }
            });
            Assert.Equal(1, won);
            Assert.Equal(7, refused);
            Registry().Release((ushort)(10 + Registry().List().Single().Domid - 10));
        }
    }

    [Fact]
    public void ACheckAgainstAThousandClaimsIsMeasured()
    {
        var r = Registry();
        for (int i = 0; i < 1000; i++)
            r.Claim(Request((ushort)(1 + i), 0, $"b{i}", ((ulong)(0x1000000 + i * 0x10000), 0x8000), ((ulong)(0x1008000 + i * 0x10000), 0x100)));
        var times = new List<double>();
        for (int i = 0; i < 20; i++)
        {
            var sw = Stopwatch.StartNew();
            Assert.Throws<UserErrorException>(() => r.Claim(Request(2000, 0, "late", ((ulong)(0x1000000 + 500 * 0x10000 + 0x10), 1))));
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        _out.WriteLine($"claim check against 1000 claims (2000 ranges): median {times[10]:0.0} ms, max {times[^1]:0.0} ms");
        Assert.True(times[10] < 2000, $"median {times[10]} ms");
    }

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_dir)!, recursive: true);
}
