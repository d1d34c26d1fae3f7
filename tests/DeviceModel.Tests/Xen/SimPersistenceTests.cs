using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.DeviceModel.Xen.Ioreq;
using XenVnvdimm.DeviceModel.Xen.Sim;

namespace XenVnvdimm.Tests.Xen;

/// <summary>
/// The persisted simulator (what makes re-attach testable in sim mode), the mailbox page given back
/// with decrease_reservation, and a mapper taking over another companion's frames.
/// </summary>
public class SimPersistenceTests
{
    private static SimHypervisorOptions Persisted(string dir) => new() { PmemRegions = [(SimGuest.PmemFirstMfn, SimGuest.PmemFrames)], PersistDirectory = dir };

    [Fact]
    public void A_second_simulator_on_the_same_directory_finds_the_domain_as_the_first_left_it()
    {
        string dir = Directory.CreateTempSubdirectory("xvnd-sim-").FullName;
        try
        {
            var runs = ScatterLists.Aligned(4096, 512, seed: 3);
            ushort serverId;
            using (var hv = new SimHypervisor(Persisted(dir)))
            {
                hv.CreateDomain(7);
                using var devices = hv.OpenDevices();
                var session = XenGuestSession.Open(devices, 7, new XenSessionOptions(), NullLoggerFactory.Instance);
                session.PopulateRamPage(0xfe000);
                hv.Domain(7)!.RamPage(0xfe000)[..4].Fill(0x5A);
                session.Pmem.Map(runs);
                serverId = session.StartIoreqServer([new IoRange(IoSpace.Port, 0xa18, 0xa18)], _ => 0).Id;
                // No teardown: the process "dies" here, its session never disposed.
            }

            using var again = new SimHypervisor(Persisted(dir));
            var dom = again.Domain(7);
            Assert.NotNull(dom);
            Assert.Equal(runs.Sum(r => (long)r.Count) + 1, (long)dom.P2m.MappedFrames);
            Assert.Equal(runs[0].Mfn, dom.P2m.Lookup(runs[0].Gfn)!.Value.Mfn);
            Assert.Equal(new byte[] { 0x5A, 0x5A, 0x5A, 0x5A }, dom.RamPage(0xfe000)[..4].ToArray());
            Assert.True(dom.Iomem.ContainsAll(runs[0].Mfn, runs[0].Mfn + runs[0].Count - 1));
            var server = Assert.Single(dom.IoreqServers);
            Assert.Equal(serverId, server.Key);
            Assert.True(server.Value.Claims(0, 0xa18, 1)); // still enabled, still claiming the doorbell

            // A new ioreq server gets a new id, as in Xen.
            Assert.Equal(0, again.Counters["hypercall"]);
            again.DestroyDomain(7);
            Assert.False(Directory.Exists(dir));
        }
        finally
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_mailbox_page_is_given_back_scrubbed_and_can_be_populated_again()
    {
        using var g = new SimGuest();
        g.Session.PopulateRamPage(0xfe000);
        g.Domain.RamPage(0xfe000)[0] = 0x77;
        g.Session.RemoveRamPage(0xfe000);
        Assert.Null(g.Domain.P2m.Lookup(0xfe000));
        Assert.Equal(0UL, g.Domain.P2m.MappedFrames);
        Assert.Equal(1, g.Hv.Counters["memory_op:decrease_reservation"]);
        var e = Assert.Throws<XenException>(() => g.Session.RemoveRamPage(0xfe000));
        Assert.Contains("decrease_reservation(gfn 0xfe000)", e.Message);
        g.Session.PopulateRamPage(0xfe000);
        Assert.Equal(0, g.Domain.RamPage(0xfe000)[0]);
    }

    [Fact]
    public void Adopted_runs_are_removed_at_teardown_without_being_mapped_again()
    {
        using var g = new SimGuest();
        var runs = ScatterLists.Fragmented(2000, seed: 4);
        string used;
        using (var first = XenGuestSession.Open(g.Devices, SimGuest.Domid, new XenSessionOptions(), NullLoggerFactory.Instance))
        {
            first.Pmem.Map(runs);
            used = first.Pmem.Interface;
            first.Restrict(); // disposal then leaves the mappings in place, like a crash
        }
        long mappings = g.Hv.Counters["domctl:memory_mapping"];
        using var next = XenGuestSession.Open(g.Hv.OpenDevices(), SimGuest.Domid, new XenSessionOptions(), NullLoggerFactory.Instance);
        Assert.Throws<InvalidOperationException>(() => next.Pmem.Adopt("XENMEM_something_else", runs));
        next.Pmem.Adopt(used, runs);
        Assert.Equal(mappings, g.Hv.Counters["domctl:memory_mapping"]);
        next.Pmem.Unmap();
        Assert.Equal(0UL, g.Domain.P2m.MappedFrames);
        Assert.Equal(0, g.Domain.Iomem.RangeCount);
    }
}
