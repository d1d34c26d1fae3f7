using XenVnvdimm.DeviceModel;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Xen.Sim;

namespace XenVnvdimm.Tests.Xen;

/// <summary>EnsureUnpopulated over the simulated hypercalls: XENMEM_maximum_gpfn, then getpageframeinfo3.</summary>
public class PopulatedWindowTests
{
    [Fact]
    public void AWindowAboveTheGuestsRamPassesWithOneMaximumGpfnCall()
    {
        using var g = new SimGuest();
        g.Domain.GuestRam.Add(0, 0x20000);        // 512 MiB low
        g.Domain.GuestRam.Add(0x100000, 0x10000); // 256 MiB at 4 GiB
        g.Session.EnsureUnpopulated(0x140000, 0x4000);
        Assert.Equal(1L, g.Hv.Counters["memory_op:maximum_gpfn"]);
        Assert.Equal(0L, g.Hv.Counters["domctl:getpageframeinfo3"]);
    }

    [Fact]
    public void AWindowOnTheGuestsHighRamIsRefusedNamingTheRange()
    {
        using var g = new SimGuest();
        g.Domain.GuestRam.Add(0x100000, 0x10000); // 0x100000000-0x10fffffff
        var e = Assert.Throws<UserErrorException>(() => g.Session.EnsureUnpopulated(0x100000, 0x40000));
        Assert.Contains("guest frames 0x100000000-0x13fffffff are already populated (0x100000000 holds a page)", e.Message);
        Assert.Equal(0UL, g.Domain.P2m.MappedFrames);
    }

    [Fact]
    public void OnePopulatedFrameFarIntoTheWindowIsFoundAcrossBatches()
    {
        using var g = new SimGuest();
        g.Domain.AddRamPage(0x140000 + 5000);      // one RAM page inside, beyond the first 1,024-frame batch
        var e = Assert.Throws<UserErrorException>(() => g.Session.EnsureUnpopulated(0x140000, 0x4000));
        Assert.Contains($"(0x{(0x140000UL + 5000) << 12:x} holds a page)", e.Message);
        Assert.Equal(5L, g.Hv.Counters["domctl:getpageframeinfo3"]);
    }

    [Fact]
    public void FramesBelowTheHighestGpfnButEmptyPass()
    {
        // max_gpfn lies past the window (e.g. a page far above): the window's frames are asked, and are empty.
        using var g = new SimGuest();
        g.Domain.AddRamPage(0x200000);
        g.Session.EnsureUnpopulated(0x140000, 0x800);
        Assert.Equal(2L, g.Hv.Counters["domctl:getpageframeinfo3"]);
    }

    [Fact]
    public void RunsThatContinueEachOtherAreCheckedAndNamedAsOneRange()
    {
        using var g = new SimGuest();
        g.Domain.GuestRam.Add(0x100800, 1); // one page in the second half of the device
        FrameRun[] runs = [new(0x100400, 0x9000, 0x400), new(0x100000, 0x5000, 0x400), new(0x100800, 0x7000, 0x800)];
        var e = Assert.Throws<UserErrorException>(() => g.Session.EnsureUnpopulated(runs));
        Assert.Contains("guest frames 0x100000000-0x100ffffff are already populated (0x100800000 holds a page)", e.Message);
        g.Session.EnsureUnpopulated([new FrameRun(0x200000, 0x5000, 0x10), new FrameRun(0x300000, 0x6000, 0x10)]);
    }

    [Fact]
    public void TheSimBuildsTheRamLibxlWouldHavePopulated()
    {
        using var hv = new SimHypervisor(new SimHypervisorOptions());
        var d = hv.CreateDomain(9, memoryMap: GuestMemoryMap.Xen(768, null, 3584));
        Assert.Equal(new[] { (0UL, 0x20000UL), (0x100000UL, 0x10000UL) }, d.GuestRam.Ranges);
    }
}
