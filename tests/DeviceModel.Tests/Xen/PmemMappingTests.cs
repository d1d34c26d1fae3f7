using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.DeviceModel.Xen.Abi;
using XenVnvdimm.DeviceModel.Xen.Pmem;
using XenVnvdimm.DeviceModel.Xen.Sim;

namespace XenVnvdimm.Tests.Xen;

/// <summary>Guest pmem population on the simulated hypervisor: both interfaces, at scale, with failures.</summary>
public class PmemMappingTests
{
    private const ulong OneTiB = 1UL << 28;     // frames
    private const ulong SixteenGiB = 1UL << 22; // frames

    [Fact]
    public void Memory_mapping_maps_1TiB_of_2MiB_runs_with_the_fewest_calls_and_tears_down_to_an_empty_p2m()
    {
        using var g = new SimGuest(session: new XenSessionOptions { PopulatePmemOp = null });
        var runs = ScatterLists.Aligned(OneTiB, 512, seed: 1);
        g.Session.Pmem.Map(runs);

        g.AssertMapped(runs, P2mType.MmioDirect, CacheAttr.Uncached);
        Assert.Equal((long)ScatterLists.MinMemoryMappingCalls(runs), g.Hv.Counters["domctl:memory_mapping"]);
        Assert.Equal(g.Hv.Counters["domctl:iomem_permission"], (long)ScatterList.MachineRanges(runs).Count);

        g.Session.Pmem.Unmap();
        Assert.Equal(0, g.Domain.P2m.RangeCount);
        Assert.Equal(0UL, g.Domain.P2m.MappedFrames);
        Assert.Equal(0, g.Domain.Iomem.RangeCount);
    }

    [Fact]
    public void Memory_mapping_maps_16GiB_of_4KiB_fragments_at_64_frames_per_call()
    {
        using var g = new SimGuest(session: new XenSessionOptions { PopulatePmemOp = null });
        var runs = ScatterLists.Fragmented(SixteenGiB, seed: 2);
        g.Session.Pmem.Map(runs);

        g.AssertMapped(runs, P2mType.MmioDirect, CacheAttr.Uncached);
        Assert.Equal((long)runs.Sum(r => (long)((r.Count + 63) / 64)), g.Hv.Counters["domctl:memory_mapping"]);

        g.Session.Pmem.Unmap();
        Assert.Equal(0, g.Domain.P2m.RangeCount);
        Assert.Equal(0, g.Domain.Iomem.RangeCount);
    }

    [Fact]
    public void Populate_pmem_map_maps_1TiB_with_one_call_per_run_cached_and_removes_it_in_2MiB_extents()
    {
        using var g = new SimGuest(SimGuest.SeriesXen());
        var runs = ScatterLists.Aligned(OneTiB, 512, seed: 3);
        g.Session.Pmem.Map(runs);

        Assert.Equal("XENMEM_populate_pmem_map", g.Session.Pmem.Interface);
        g.AssertMapped(runs, P2mType.Pmem, CacheAttr.WriteBack);
        Assert.Equal(runs.Count, g.Hv.Counters["memory_op:populate_pmem_map"]);
        Assert.Equal(0, g.Hv.Counters["domctl:memory_mapping"]);

        g.Session.Pmem.Unmap();
        Assert.Equal(0, g.Domain.P2m.RangeCount);
        // 2^19 extents of 2 MiB, 65536 per call.
        Assert.Equal((long)(OneTiB / 512 / MemoryOps.MaxExtentsPerCall), g.Hv.Counters["memory_op:decrease_reservation"]);
    }

    [Fact]
    public void Populate_pmem_map_maps_16GiB_of_4KiB_fragments_and_tears_down()
    {
        using var g = new SimGuest(SimGuest.SeriesXen());
        var runs = ScatterLists.Fragmented(SixteenGiB, seed: 4);
        g.Session.Pmem.Map(runs);
        g.AssertMapped(runs, P2mType.Pmem, CacheAttr.WriteBack);
        Assert.Equal(runs.Count, g.Hv.Counters["memory_op:populate_pmem_map"]);
        g.Session.Pmem.Unmap();
        Assert.Equal(0UL, g.Domain.P2m.MappedFrames);
    }

    [Fact]
    public void Adjacent_runs_are_merged_into_one_call()
    {
        using var g = new SimGuest(SimGuest.SeriesXen());
        var m = SimGuest.PmemFirstMfn;
        g.Session.Pmem.Map([new FrameRun(0x100000, m, 512), new FrameRun(0x100200, m + 512, 512), new FrameRun(0x100400, m + 4096, 512)]);
        Assert.Equal(2, g.Hv.Counters["memory_op:populate_pmem_map"]);
        Assert.Equal(2, g.Domain.P2m.RangeCount);
    }

    [Theory]
    [InlineData(XenConstants.XEN_ENOMEM, 0UL)]
    [InlineData(XenConstants.XEN_ENOMEM, 100UL)]
    [InlineData(XenConstants.XEN_EPERM, 7UL)]
    public void A_memory_mapping_failure_midway_leaves_nothing_mapped(int errno, ulong partialFrames)
    {
        using var g = new SimGuest(session: new XenSessionOptions { PopulatePmemOp = null });
        var runs = ScatterLists.Fragmented(1UL << 16, seed: 5);
        g.Hv.Faults.Add(new SimFault(SimOp.MemoryMapping, AfterCalls: 400, errno, partialFrames));

        var e = Assert.Throws<XenException>(() => g.Session.Pmem.Map(runs));
        Assert.Equal(errno, e.Errno);
        Assert.Equal(0, g.Domain.P2m.RangeCount);
        Assert.Equal(0, g.Domain.Iomem.RangeCount);
    }

    [Fact]
    public void An_iomem_permission_failure_midway_revokes_what_was_granted()
    {
        using var g = new SimGuest(session: new XenSessionOptions { PopulatePmemOp = null });
        var runs = ScatterLists.Fragmented(1UL << 14, seed: 6);
        g.Hv.Faults.Add(new SimFault(SimOp.IomemPermission, AfterCalls: 50, XenConstants.XEN_ENOMEM));
        Assert.Throws<XenException>(() => g.Session.Pmem.Map(runs));
        Assert.Equal(0, g.Domain.Iomem.RangeCount);
        Assert.Equal(0, g.Domain.P2m.RangeCount);
    }

    [Fact]
    public void A_populate_failure_midway_removes_the_frames_already_populated()
    {
        using var g = new SimGuest(SimGuest.SeriesXen());
        var runs = ScatterLists.Aligned(1UL << 20, 512, seed: 7);
        g.Hv.Faults.Add(new SimFault(SimOp.PopulatePmem, AfterCalls: runs.Count / 2, XenConstants.XEN_ENOMEM, PartialFrames: 512));
        var e = Assert.Throws<XenException>(() => g.Session.Pmem.Map(runs));
        Assert.Equal(XenConstants.XEN_ENOMEM, e.Errno);
        Assert.Equal(0, g.Domain.P2m.RangeCount);
    }

    [Fact]
    public void Preempted_hypercalls_continue_transparently()
    {
        using var g = new SimGuest(SimGuest.SeriesXen());
        var runs = ScatterLists.Aligned(1UL << 20, 512, seed: 8);
        g.Hv.Faults.Add(new SimFault(SimOp.PopulatePmem, AfterCalls: 3, XenInternal.ERESTART, PartialFrames: 512, Times: 5));
        g.Hv.Faults.Add(new SimFault(SimOp.DecreaseReservation, AfterCalls: 0, XenInternal.ERESTART, PartialFrames: 100, Times: 3));
        g.Session.Pmem.Map(runs);
        g.AssertMapped(runs, P2mType.Pmem, CacheAttr.WriteBack);
        g.Session.Pmem.Unmap();
        Assert.Equal(0, g.Domain.P2m.RangeCount);
        Assert.Equal(8, g.Hv.Counters["continuation"]);
    }

    [Fact]
    public void E2BIG_halves_the_batch_in_whole_2MiB_pages_like_libxc_and_keeps_superpages()
    {
        // An Arm-like Xen: more than 64 frames per call is -E2BIG.
        var opts = new SimHypervisorOptions { MaxMappingFramesPerCall = 2048, PmemRegions = [(SimGuest.PmemFirstMfn, SimGuest.PmemFrames)] };
        using var g = new SimGuest(opts, new XenSessionOptions { PopulatePmemOp = null });
        var run = new FrameRun(0x100000, SimGuest.PmemFirstMfn, 3 * 1024 + 512); // 7 x 2 MiB
        g.Session.Pmem.Map([run]);
        g.AssertMapped([run], P2mType.MmioDirect, CacheAttr.Uncached);
        // 3584 → E2BIG; 1536 (halved, rounded to 2 MiB) fits: 1536, 1536, 512; 4 calls in all.
        Assert.Equal(4, g.Hv.Counters["domctl:memory_mapping"]);
    }

    [Fact]
    public void Enosys_from_populate_falls_back_to_memory_mapping()
    {
        // A 4.10 Xen without the series: memory_op 28 is not implemented there.
        var opts = new SimHypervisorOptions { Version = (4, 10), PmemRegions = [(SimGuest.PmemFirstMfn, SimGuest.PmemFrames)] };
        using var g = new SimGuest(opts);
        var runs = ScatterLists.Aligned(1UL << 14, 512, seed: 9);
        g.Session.Pmem.Map(runs);
        Assert.Equal("XEN_DOMCTL_memory_mapping", g.Session.Pmem.Interface);
        Assert.Equal(1, g.Hv.Counters["memory_op:28"]);
        g.AssertMapped(runs, P2mType.MmioDirect, CacheAttr.Uncached);
    }

    [Fact]
    public void Op_28_is_never_called_as_populate_on_a_xen_where_it_is_acquire_resource()
    {
        using var g = new SimGuest(); // 4.17
        var runs = ScatterLists.Aligned(1UL << 12, 512, seed: 10);
        g.Session.Pmem.Map(runs);
        Assert.Equal("XEN_DOMCTL_memory_mapping", g.Session.Pmem.Interface);
        Assert.Equal(0, g.Hv.Counters["memory_op:28"]);
        Assert.Equal(1, g.Hv.Counters["xen_version"]);
    }

    [Fact]
    public void Overlapping_an_existing_entry_is_refused_and_undone()
    {
        using var g = new SimGuest(session: new XenSessionOptions { PopulatePmemOp = null });
        g.Domain.AddRamPage(0x100300);
        var run = new FrameRun(0x100000, SimGuest.PmemFirstMfn, 1024);
        var e = Assert.Throws<XenException>(() => g.Session.Pmem.Map([run]));
        Assert.Equal(XenConstants.XEN_EBUSY, e.Errno);
        Assert.Equal(1, g.Domain.P2m.RangeCount); // only the RAM page
    }

    [Fact]
    public void Frames_beyond_the_domain_or_host_limits_are_refused()
    {
        using var g = new SimGuest(session: new XenSessionOptions { PopulatePmemOp = null });
        var e = Assert.Throws<XenException>(() => g.Session.Pmem.Map([new FrameRun(g.Domain.MaxGfn - 10, SimGuest.PmemFirstMfn, 512)]));
        Assert.Equal(XenConstants.XEN_EINVAL, e.Errno);
        var e2 = Assert.Throws<XenException>(() => g.Session.Pmem.Map([new FrameRun(0x100000, 1UL << 40, 512)]));
        Assert.Equal(XenConstants.XEN_EPERM, e2.Errno);
        Assert.Equal(0, g.Domain.P2m.RangeCount);
        Assert.Equal(0, g.Domain.Iomem.RangeCount);
    }

    [Fact]
    public void Invalid_scatter_lists_are_refused_before_any_hypercall()
    {
        using var g = new SimGuest();
        Assert.Throws<ArgumentException>(() => g.Session.Pmem.Map([new FrameRun(0x100000, 0x2000000, 0)]));
        Assert.Throws<ArgumentException>(() => g.Session.Pmem.Map([new FrameRun(0x100000, 0x2000000, 16), new FrameRun(0x100008, 0x3000000, 16)]));
        Assert.Throws<ArgumentException>(() => g.Session.Pmem.Map([new FrameRun(0x100000, 0x2000000, 16), new FrameRun(0x200000, 0x2000008, 16)]));
        Assert.Equal(0, g.Hv.Counters["hypercall"]);
    }

    [Fact]
    public void The_domctl_interface_version_is_probed()
    {
        var opts = new SimHypervisorOptions { DomctlInterfaceVersion = 0x17, PmemRegions = [(SimGuest.PmemFirstMfn, SimGuest.PmemFrames)] };
        using var g = new SimGuest(opts, new XenSessionOptions { PopulatePmemOp = null });
        g.Session.Pmem.Map([new FrameRun(0x100000, SimGuest.PmemFirstMfn, 512)]);
        Assert.Equal(0x17u, g.Session.DomctlInterfaceVersion);
        Assert.Equal(1, g.Domain.P2m.RangeCount);

        var unknown = new SimHypervisorOptions { DomctlInterfaceVersion = 0x99, PmemRegions = [(SimGuest.PmemFirstMfn, SimGuest.PmemFrames)] };
        using var g2 = new SimGuest(unknown, new XenSessionOptions { PopulatePmemOp = null });
        var e = Assert.Throws<XenException>(() => g2.Session.Pmem.Map([new FrameRun(0x100000, SimGuest.PmemFirstMfn, 512)]));
        Assert.Equal(XenConstants.XEN_EACCES, e.Errno);
    }
}
