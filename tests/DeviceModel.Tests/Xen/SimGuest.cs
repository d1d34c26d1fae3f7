using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.DeviceModel.Xen.Sim;

namespace XenVnvdimm.Tests.Xen;

/// <summary>A simulated hypervisor with one guest and a companion session on it, as the tests use them.</summary>
internal sealed class SimGuest : IDisposable
{
    public const ushort Domid = 5;

    /// <summary>Host pmem the simulated Xen knows about: 16 TiB of frames from 64 GiB up.</summary>
    public const ulong PmemFirstMfn = 0x100_0000;
    public const ulong PmemFrames = 1UL << 32;

    public SimGuest(SimHypervisorOptions? options = null, XenSessionOptions? session = null, int vcpus = 4)
    {
        Hv = new SimHypervisor(options ?? new SimHypervisorOptions { PmemRegions = [(PmemFirstMfn, PmemFrames)] });
        Domain = Hv.CreateDomain(Domid, vcpus);
        Devices = Hv.OpenDevices();
        Session = XenGuestSession.Open(Devices, Domid, session ?? new XenSessionOptions(), NullLoggerFactory.Instance);
    }

    /// <summary>A Xen with the vNVDIMM series (4.10-based, populate_pmem_map as memory_op 28).</summary>
    public static SimHypervisorOptions SeriesXen() => new()
    {
        Version = (4, 10),
        PmemOp = 28,
        PmemRegions = [(PmemFirstMfn, PmemFrames)],
    };

    public SimHypervisor Hv { get; }

    public SimDomain Domain { get; }

    public XenDevices Devices { get; }

    public XenGuestSession Session { get; }

    /// <summary>Checks every run is mapped gfn → mfn with <paramref name="type"/>, and nothing else is.</summary>
    public void AssertMapped(IReadOnlyList<FrameRun> runs, P2mType type, CacheAttr cache)
    {
        ulong total = 0;
        foreach (var r in runs)
        {
            total += r.Count;
            foreach (ulong off in new ulong[] { 0, r.Count / 2, r.Count - 1 })
            {
                var t = Domain.P2m.Lookup(r.Gfn + off);
                Assert.NotNull(t);
                Assert.Equal(r.Mfn + off, t.Value.Mfn);
                Assert.Equal(type, t.Value.Type);
                Assert.Equal(cache, t.Value.Cache);
            }
        }
        Assert.Equal(total, Domain.P2m.MappedFrames);
        // Stored as ranges: never more entries than runs.
        Assert.InRange(Domain.P2m.RangeCount, 1, runs.Count);
    }

    public void Dispose()
    {
        Session.Dispose();
        Devices.Dispose();
        Hv.Dispose();
    }
}

/// <summary>Scatter lists like those the backing resolver produces.</summary>
internal static class ScatterLists
{
    /// <summary>
    /// Runs of 1-8 whole 2 MiB pages covering <paramref name="frames"/> guest frames from 4 GiB, whose
    /// machine frames are 2 MiB slots of host pmem in shuffled order (so runs never merge).
    /// </summary>
    public static List<FrameRun> Aligned(ulong frames, ulong pageFrames, int seed)
    {
        var rng = new Random(seed);
        ulong slots = frames / pageFrames;
        var order = Enumerable.Range(0, (int)slots).Select(i => (ulong)i).ToArray();
        rng.Shuffle(order);
        var runs = new List<FrameRun>();
        ulong gfn = 0x100000, slot = 0;
        while (slot < slots)
        {
            ulong n = Math.Min((ulong)rng.Next(1, 9), slots - slot);
            // A run is n consecutive slots in machine space starting at a shuffled slot*8 position.
            ulong mfn = SimGuest.PmemFirstMfn + order[slot] * 8 * pageFrames;
            runs.Add(new FrameRun(gfn, mfn, n * pageFrames));
            gfn += n * pageFrames;
            slot += n;
        }
        return runs;
    }

    /// <summary>
    /// Runs of 1-128 frames covering <paramref name="frames"/>, machine frames never 2 MiB aligned and
    /// separated by gaps (a fragmented file on a DAX filesystem).
    /// </summary>
    public static List<FrameRun> Fragmented(ulong frames, int seed)
    {
        var rng = new Random(seed);
        var runs = new List<FrameRun>();
        ulong gfn = 0x100000, mfn = SimGuest.PmemFirstMfn + 1, done = 0;
        while (done < frames)
        {
            ulong n = Math.Min((ulong)rng.Next(1, 129), frames - done);
            runs.Add(new FrameRun(gfn, mfn, n));
            gfn += n;
            done += n;
            mfn += n + 1 + (ulong)rng.Next(0, 4);
            if ((mfn & 511) == 0)
                mfn++;
        }
        return runs;
    }

    /// <summary>Xen's minimum number of XEN_DOMCTL_memory_mapping calls: 64 iterations per call, 2 MiB or 4 KiB each.</summary>
    public static ulong MinMemoryMappingCalls(IEnumerable<FrameRun> runs)
    {
        ulong calls = 0;
        foreach (var r in runs)
        {
            bool aligned = ((r.Gfn | r.Mfn) & 511) == 0 && r.Count % 512 == 0;
            ulong perCall = aligned ? 64 * 512UL : 64;
            calls += (r.Count + perCall - 1) / perCall;
        }
        return calls;
    }
}
