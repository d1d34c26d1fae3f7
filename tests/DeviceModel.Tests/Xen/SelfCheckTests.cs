using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.DeviceModel.Xen.Sim;

namespace XenVnvdimm.Tests.Xen;

/// <summary>The lab's self-check, run here against the simulator with a vCPU ringing the doorbell.</summary>
public class SelfCheckTests
{
    [Fact]
    public void Every_step_succeeds_on_the_simulator_and_the_guest_sees_the_results()
    {
        using var hv = new SimHypervisor(SimGuest.SeriesXen());
        var dom = hv.CreateDomain(SimGuest.Domid, vcpus: 2);
        dom.AddRamPage(0xfe000);
        using var devices = hv.OpenDevices();
        var vcpu = hv.Vcpu(dom, 1);
        ulong guestRead = 0;
        var guest = new Thread(() =>
        {
            // The guest polls its doorbell until the companion's server answers it.
            for (int i = 0; i < 500 && guestRead != 0x5a5a5a5a; i++)
            {
                guestRead = vcpu.In(0x0a18, 4);
                Thread.Sleep(5);
            }
        });
        guest.Start();
        var steps = XenSelfCheck.Run(devices, SimGuest.Domid, new XenSelfCheckOptions
        {
            PmemRuns = [new FrameRun(0x100000, SimGuest.PmemFirstMfn, 4096)],
            MailboxGfn = 0xfe000,
            IsaIrq = 7,
            WaitForGuest = TimeSpan.FromSeconds(5),
        }, NullLoggerFactory.Instance);
        guest.Join();

        Assert.All(steps, s => Assert.True(s.Ok, $"{s.Name}: {s.Detail}"));
        Assert.Equal(["dm_op nr_vcpus", "pmem map", "mailbox foreign map", "ioreq server", "guest doorbell access", "isa irq pulse", "pmem unmap"],
            steps.Select(s => s.Name));
        Assert.Equal(0x5a5a5a5aUL, guestRead);
        Assert.Equal("XVNV"u8.ToArray(), dom.RamPage(0xfe000)[..4].ToArray());
        Assert.Equal(1, dom.IsaIrqEdges[7]);
        Assert.Equal(1, dom.P2m.RangeCount); // only the mailbox RAM page is left
        Assert.Empty(dom.IoreqServers);
    }

    [Fact]
    public void A_failing_step_is_reported_and_the_others_still_run()
    {
        using var hv = new SimHypervisor(SimGuest.SeriesXen());
        hv.CreateDomain(SimGuest.Domid, vcpus: 1);
        using var devices = hv.OpenDevices();
        var steps = XenSelfCheck.Run(devices, SimGuest.Domid, new XenSelfCheckOptions { MailboxGfn = 0xfe000, IsaIrq = 3 }, NullLoggerFactory.Instance);
        var mailbox = Assert.Single(steps, s => s.Name == "mailbox foreign map");
        Assert.False(mailbox.Ok);
        Assert.Contains("EINVAL", mailbox.Detail);
        Assert.True(Assert.Single(steps, s => s.Name == "isa irq pulse").Ok);
    }
}
