using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.DeviceModel.Platforms.Xen;
using XenVnvdimm.DeviceModel.Xen.Sim;
using XenVnvdimm.XenStore.Client;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// <c>run --platform sim</c> inside the test process, so a test can reach what a process hides: the
/// simulated hypervisor's p2m, counters and vCPUs (the guest's doorbell path to the FIT).
/// </summary>
internal sealed class SimCompanion : IDisposable
{
    private readonly CancellationTokenSource _cts;

    private SimCompanion(XenPlatform platform, Task<int> run, CancellationTokenSource cts)
    {
        _cts = cts;
        Platform = platform;
        Run = run;
        Sim = platform.Simulator!;
    }

    public XenPlatform Platform { get; }

    public Task<int> Run { get; }

    public SimHypervisor Sim { get; }

    public required SimDomain Domain { get; init; }

    public required SimMailbox Mailbox { get; init; }

    /// <summary>Starts the companion and waits until it serves; a failed start-up is rethrown.</summary>
    public static async Task<SimCompanion> StartAsync(string config, ushort domid, string xenstoreSocket)
    {
        var platform = new XenPlatform(new XenRunOptions(config, domid, 0x100000000, Simulated: true, XenStorePath: xenstoreSocket) { Labels = SimState.Labels }, NullLoggerFactory.Instance);
        // Bounded, so a companion that never stops cannot hang the test run.
        var cts = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var run = platform.RunAsync(cts.Token);
        await Task.WhenAny(platform.Running.Task, run);
        if (run.IsCompleted)
            await run; // surfaces the start-up failure
        await platform.Running.Task;
        var domain = platform.Simulator!.Domain(domid) ?? throw new InvalidOperationException($"no simulated dom{domid}");
        return new SimCompanion(platform, run, cts) { Domain = domain, Mailbox = new SimMailbox(platform.Simulator, domain) };
    }

    /// <summary>Stops it as SIGTERM does and returns its exit status.</summary>
    public async Task<int> StopAsync()
    {
        _cts.Cancel();
        return await Run;
    }

    /// <summary>Stops it as SIGTERM does and asserts a clean exit that left nothing behind: not in the domain, not in xenstore, no state file.</summary>
    public async Task StopAndAssertNothingLeftAsync(XenStoreClient xs)
    {
        Assert.Equal(0, await StopAsync());
        SimState.AssertCompanionLeftNothing(Domain.Domid);
        Assert.False(await xs.ExistsAsync($"/local/domain/0/device-model/{Domain.Domid}/vnvdimm"));
    }

    public void Dispose() => _cts.Dispose();
}
