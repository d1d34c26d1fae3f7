using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.DeviceModel.Xen.Abi;
using XenVnvdimm.DeviceModel.Xen.Events;
using XenVnvdimm.DeviceModel.Xen.Ioreq;
using XenVnvdimm.DeviceModel.Xen.Sim;

namespace XenVnvdimm.Tests.Xen;

/// <summary>Foreign mapping, restriction, interrupts, event channels and the host devices.</summary>
public class SessionTests
{
    [Fact]
    public void The_mailbox_page_is_shared_both_ways_through_a_foreign_mapping()
    {
        using var g = new SimGuest();
        g.Domain.AddRamPage(0xfe000);
        using var page = g.Session.Foreign.MapPage(0xfe000);
        page.Bytes[..4].Fill(0xA5);
        Assert.Equal(0xA5, g.Domain.RamPage(0xfe000)[3]);
        g.Domain.RamPage(0xfe000)[4095] = 0x5A;
        Assert.Equal(0x5A, page.Bytes[4095]);
    }

    [Fact]
    public void Foreign_mapping_a_frame_that_is_not_guest_ram_is_refused()
    {
        using var g = new SimGuest();
        var e = Assert.Throws<XenException>(() => g.Session.Foreign.MapPage(0xfe001));
        Assert.Equal(XenConstants.XEN_EINVAL, e.Errno);
    }

    [Fact]
    public void After_restrict_raw_hypercalls_and_other_domains_are_refused_but_dm_ops_work()
    {
        using var g = new SimGuest();
        g.Hv.CreateDomain(9);
        g.Session.Restrict();
        var e = Assert.Throws<XenException>(() => g.Session.Pmem.Map([new FrameRun(0x100000, SimGuest.PmemFirstMfn, 512)]));
        Assert.Equal(XenConstants.XEN_EPERM, e.Errno);
        g.Session.IsaIrq(7).Pulse(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, g.Domain.IsaIrqEdges[7]);
        var other = new DeviceModelOps(g.Session.Privcmd, 9);
        Assert.Equal(XenConstants.XEN_EPERM, Assert.Throws<XenException>(() => other.NrVcpus()).Errno);
        Assert.Equal(0, g.Domain.P2m.RangeCount);
    }

    [Fact]
    public void An_isa_irq_pulse_is_one_rising_edge_and_leaves_the_line_low()
    {
        using var g = new SimGuest();
        var line = g.Session.IsaIrq(7);
        line.Pulse(TimeSpan.FromMilliseconds(1));
        line.Pulse(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, g.Domain.IsaIrqEdges[7]);
        Assert.False(g.Domain.IsaIrqLevel[7]);
        Assert.Throws<ArgumentOutOfRangeException>(() => g.Session.IsaIrq(16));
        // x86 Xen has no set_irq_level: the error is reported, not swallowed.
        Assert.Throws<XenException>(() => g.Session.Dm.SetIrqLevel(40, true));
    }

    [Fact]
    public void A_port_reported_pending_stays_masked_until_unmasked()
    {
        using var hv = new SimHypervisor();
        hv.CreateDomain(3, vcpus: 1);
        uint xenPort = 0;
        int notified = 0;
        xenPort = hv.Events.AllocXenPort(3, () => Interlocked.Increment(ref notified));
        using var dev = new SimEvtchnDevice(hv.Events);
        using var evt = new EventChannel(dev);
        uint local = evt.BindInterdomain(3, xenPort);

        hv.Events.NotifyFromXen(3, xenPort);
        hv.Events.NotifyFromXen(3, xenPort); // while masked: remembered, not queued twice
        Assert.True(evt.TryWait(1000, out uint p));
        Assert.Equal(local, p);
        Assert.False(evt.TryWait(10, out _));
        evt.Unmask(local);
        Assert.True(evt.TryWait(1000, out p));
        Assert.Equal(local, p);

        evt.Notify(local);
        Assert.Equal(1, notified);
        evt.Unbind(local);
        Assert.Throws<XenException>(() => evt.Notify(local));
    }

    [Fact]
    public void Opening_the_host_devices_without_xen_fails_with_the_device_named()
    {
        if (File.Exists("/dev/xen/privcmd"))
        {
            // On a Xen dom0 (the Xen lab) the devices open.
            using var devices = XenDevices.OpenHost();
            Assert.Equal("/dev/xen/privcmd", devices.Privcmd.Path);
            return;
        }
        var e = Assert.Throws<XenException>(XenDevices.OpenHost);
        Assert.Contains("/dev/xen/privcmd", e.Message);
        Assert.Equal(2, e.Errno); // ENOENT
    }

    [Fact]
    public unsafe void Hypercall_buffers_fall_back_to_locked_anonymous_memory()
    {
        using var b = HypercallBuffer.Allocate(null, 100);
        Assert.Equal((nuint)4096, b.Length);
        Assert.Equal(0, (long)b.Address % 4096);
        new Span<byte>(b.Address, 4096).Fill(1);
        Assert.Equal(1, ((byte*)b.Address)[4095]);
    }

    [Fact]
    public void Session_teardown_stops_servers_and_unmaps_pmem()
    {
        var g = new SimGuest();
        g.Session.Pmem.Map(ScatterLists.Aligned(1UL << 12, 512, seed: 11));
        g.Session.StartIoreqServer([new IoRange(IoSpace.Port, 0xa18, 0xa1b)], _ => 0);
        Assert.NotEqual(0, g.Domain.P2m.RangeCount);
        g.Session.Dispose();
        Assert.Equal(0, g.Domain.P2m.RangeCount);
        Assert.Empty(g.Domain.IoreqServers);
        g.Devices.Dispose();
        g.Hv.Dispose();
    }
}
