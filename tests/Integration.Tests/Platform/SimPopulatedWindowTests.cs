using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Xen.Sim;
using static XenVnvdimm.Tests.Integration.CompanionProcess;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// A config that understates the guest's RAM (no memory=, so 32 MiB and the window at 4 GiB) for a
/// domain that really has 6 GiB (RAM at 4 GiB..6.25 GiB): the plan cannot see it, Xen can. `run`
/// asks the (simulated) hypervisor before mapping and refuses, leaving the domain untouched.
/// </summary>
public class SimPopulatedWindowTests
{
    [Fact]
    public async Task RunRefusesAWindowTheDomainAlreadyHasRamInAndMapsNothing()
    {
        const ushort domid = 47;
        using var d = new TempDir();
        string a = d.Filled("a.img", 16 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}, label_size=0' ]\n");
        // The domain as libxl built it for memory=6144: persisted where the sim companion restores it from.
        using (var hv = new SimHypervisor(new SimHypervisorOptions { PersistDirectory = Path.Combine(SimState.Directory, $"{domid}.sim") }))
            hv.CreateDomain(domid, memoryMap: GuestMemoryMap.Xen(6144, null, null));
        string sock = d.File("xs.sock");
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);

        var r = ProcessRunner.Run("dotnet", [Dll, "run", "--platform", "sim", "--domid", $"{domid}", "--config", d.File("vm.cfg"), "--assume-spa-base", "0x100000000"],
            env: ("XENSTORED_PATH", sock));

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("guest frames 0x100000000-0x100ffffff are already populated (0x100000000 holds a page)", r.Stderr);
        Assert.Equal("error", Read(sock, $"/local/domain/0/device-model/{domid}/vnvdimm/state"));
        var left = SimState.Domain(domid);
        Assert.Empty(left.P2m);   // no frame mapped, and no mailbox page populated
        Assert.Empty(left.Ram);
        Assert.Empty(left.Iomem);
        Assert.Equal(2, left.GuestRam!.Count); // the guest's own RAM is still there
    }

    private static string Read(string sock, string path) =>
        ProcessRunner.Run("xenstore-read", [path], env: ("XENSTORED_PATH", sock)).Stdout.Trim();
}
