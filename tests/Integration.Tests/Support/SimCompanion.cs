using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.DeviceModel.Companion;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Platforms.Xen;
using XenVnvdimm.DeviceModel.Xen.Sim;
using XenVnvdimm.XenStore.Client;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// <c>run --platform sim</c> inside the test process, so a test can reach what a process hides: the
/// simulated hypervisor's p2m, counters and vCPUs (the guest's doorbell path to the FIT). The domain is
/// introduced to xenstored first, as xl does, so releasing it ends the companion.
/// </summary>
internal sealed class SimCompanion : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly string _xenstore;

    private SimCompanion(Companion companion, XenBackend backend, Task<int> run, CancellationTokenSource cts, string xenstore)
    {
        _cts = cts;
        _xenstore = xenstore;
        Companion = companion;
        Backend = backend;
        Run = run;
        Sim = backend.Simulator!;
    }

    public Companion Companion { get; }

    public XenBackend Backend { get; }

    public Task<int> Run { get; }

    public SimHypervisor Sim { get; }

    public required SimDomain Domain { get; init; }

    public required SimMailbox Mailbox { get; init; }

    /// <summary>The SPA the simulator assumes a backing's device at unless a test gives its own.</summary>
    public const ulong DefaultSpaBase = 0x100000000;

    /// <summary>
    /// An SPA base of a test's own loop device. The simulator puts every backing's device at one assumed
    /// base, so files at the same offsets of two loop filesystems are the same frames to the host-wide
    /// claims, and a test running beside another would find its frames claimed.
    /// </summary>
    public static ulong OwnDeviceSpaBase(ushort domid) => DefaultSpaBase + ((ulong)domid << 36);

    /// <summary>A companion (not started) for <paramref name="config"/> on the simulator, as <c>run --platform sim</c> builds it.</summary>
    public static (Companion Companion, XenBackend Backend) Create(string config, ushort domid, string xenstoreSocket, ulong spaBase = DefaultSpaBase)
    {
        var layout = LayoutPlanner.Plan(VnvdimmConfig.Load(config, GuestPlatform.Xen, NullLogger.Instance), labels: SimState.Labels);
        var backend = new XenBackend(new XenBackendOptions(domid, Simulated: true, SimState.Directory, spaBase), NullLoggerFactory.Instance);
        // The same host-wide claims the CLI's sim companions use (state directory's claims).
        var claims = new XenVnvdimm.DeviceModel.Claims.ClaimRegistry(Path.Combine(SimState.Directory, "claims"), new XenVnvdimm.DeviceModel.Claims.SimDomainLiveness(SimState.Directory));
        var companion = new Companion(new CompanionOptions(domid, SimState.Directory, xenstoreSocket, spaBase, SimState.Labels, claims), layout, backend, NullLoggerFactory.Instance);
        return (companion, backend);
    }

    /// <summary>Starts the companion and waits until it serves; a failed start-up is rethrown.</summary>
    public static async Task<SimCompanion> StartAsync(string config, ushort domid, string xenstoreSocket, ulong spaBase = DefaultSpaBase)
    {
        await using (var admin = await XenStoreClient.ConnectAsync(xenstoreSocket))
        {
            if (!await admin.IsDomainIntroducedAsync(domid))
                await admin.ControlAsync("introduce", [domid.ToString()]);
        }
        var (companion, backend) = Create(config, domid, xenstoreSocket, spaBase);
        // Bounded, so a companion that never stops cannot hang the test run.
        var cts = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var run = companion.RunAsync(cts.Token);
        await Task.WhenAny(companion.Running.Task, run);
        if (run.IsCompleted)
            await run; // surfaces the start-up failure
        await companion.Running.Task;
        var domain = backend.Simulator!.Domain(domid) ?? throw new InvalidOperationException($"no simulated dom{domid}");
        return new SimCompanion(companion, backend, run, cts, xenstoreSocket) { Domain = domain, Mailbox = new SimMailbox(backend.Simulator, domain) };
    }

    /// <summary>Stops it as SIGTERM does (the guest keeps its pmem) and returns its exit status.</summary>
    public async Task<int> StopAsync()
    {
        _cts.Cancel();
        return await Run;
    }

    /// <summary>
    /// Releases the domain as xl's destroy does (@releaseDomain) and asserts a clean exit that left nothing
    /// behind: no domain in the simulator, no state file, no companion nodes in xenstore.
    /// </summary>
    public async Task ReleaseAndAssertNothingLeftAsync(XenStoreClient xs)
    {
        ushort domid = Domain.Domid;
        await xs.ControlAsync("release", [domid.ToString()]);
        Assert.Equal(0, await Run.WaitAsync(TimeSpan.FromSeconds(60)));
        SimState.AssertDomainGoneAndNothingLeft(domid);
        Assert.False(await xs.ExistsAsync($"/local/domain/0/device-model/{domid}/vnvdimm"));
    }

    public void Dispose() => _cts.Dispose();
}
