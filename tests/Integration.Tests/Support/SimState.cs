using XenVnvdimm.DeviceModel.Xen.Sim;

namespace XenVnvdimm.Tests.Integration;

/// <summary>What companions started by these tests leave in their state directory.</summary>
internal static class SimState
{
    /// <summary>The private state directory every companion of this test run uses (see <see cref="TestEnvironment"/>).</summary>
    public static string Directory => Environment.GetEnvironmentVariable("XEN_VNVDIMM_STATE_DIR")!;

    /// <summary>The private labels root of this test run (see <see cref="TestEnvironment"/>).</summary>
    public static string LabelDirectory => Environment.GetEnvironmentVariable("XEN_VNVDIMM_LABEL_DIR")!;

    /// <summary>The labels root as an in-process companion is given it.</summary>
    public static XenVnvdimm.DeviceModel.Labels.LabelLocation Labels => new(LabelDirectory);

    /// <summary>The companion state file of <paramref name="domid"/>.</summary>
    public static string StateFile(ushort domid) => Path.Combine(Directory, $"{domid}.state");

    /// <summary>The persisted simulated hypervisor of <paramref name="domid"/>'s companion, or null.</summary>
    public static SimSnapshot? Hypervisor(ushort domid) => SimPersistence.Load(Path.Combine(Directory, $"{domid}.sim"));

    /// <summary>The persisted simulated domain <paramref name="domid"/>; fails the test when there is none.</summary>
    public static SimDomainSnapshot Domain(ushort domid)
    {
        var hv = Hypervisor(domid);
        Assert.True(hv is not null, $"no persisted simulated hypervisor for dom{domid} in {Directory}");
        return Assert.Single(hv.Domains, d => d.Domid == domid);
    }

    /// <summary>Asserts the companion of <paramref name="domid"/> left nothing behind: no frames, iomem, RAM page or ioreq server in the persisted domain, and no state file.</summary>
    public static void AssertCompanionLeftNothing(ushort domid)
    {
        var left = Domain(domid);
        Assert.Empty(left.P2m);
        Assert.Empty(left.Iomem);
        Assert.Empty(left.Ram);
        Assert.Empty(left.IoreqServers);
        Assert.False(File.Exists(StateFile(domid)));
    }

    /// <summary>Asserts the released domain is gone from the simulator and its companion left no state file.</summary>
    public static void AssertDomainGoneAndNothingLeft(ushort domid)
    {
        var hv = Hypervisor(domid);
        Assert.True(hv is null || hv.Domains.All(d => d.Domid != domid), $"dom{domid} is still in the simulator after its release");
        Assert.False(File.Exists(StateFile(domid)), $"{StateFile(domid)} is left after the domain was released");
    }
}
