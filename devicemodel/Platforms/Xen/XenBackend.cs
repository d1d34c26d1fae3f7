using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Companion;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.DeviceModel.Xen.Abi;
using XenVnvdimm.DeviceModel.Xen.Foreign;
using XenVnvdimm.DeviceModel.Xen.Ioreq;
using XenVnvdimm.DeviceModel.Xen.Sim;

namespace XenVnvdimm.DeviceModel.Platforms.Xen;

/// <summary>
/// The xen and sim platforms behind the companion's port: privcmd hypercalls, the DSM mailbox as a
/// populated and foreign-mapped RAM page, the doorbell as an ioreq server, the hot-add event as a
/// pulse of an ISA IRQ line. The same code runs over /dev/xen/* or the simulated hypervisor.
/// </summary>
internal sealed class XenBackend : ICompanionBackend
{
    private readonly XenBackendOptions _options;
    private readonly ILoggerFactory _logging;
    private readonly ILogger _logger;
    private XenDevices? _devices;
    private XenGuestSession? _session;
    private ulong? _populatedMailbox;
    private bool _restricted;

    /// <summary>A backend for the guest <paramref name="options"/> names.</summary>
    public XenBackend(XenBackendOptions options, ILoggerFactory logging)
    {
        _options = options;
        _logging = logging;
        _logger = logging.CreateLogger(Name);
    }

    /// <inheritdoc/>
    public string Name => _options.Simulated ? "sim" : "xen";

    /// <inheritdoc/>
    public bool OutlivesCompanion => true;

    /// <inheritdoc/>
    public bool MapsFrames => true;

    /// <inheritdoc/>
    public string? PmemInterface => _session?.Pmem.Interface;

    /// <summary>The simulated hypervisor of a sim run (tests drive its vCPUs), once open.</summary>
    public SimHypervisor? Simulator { get; private set; }

    private XenGuestSession Session => _session ?? throw new InvalidOperationException("the Xen backend is not open");

    /// <inheritdoc/>
    public void Check(GuestLayout layout)
    {
    }

    /// <inheritdoc/>
    public void Open(GuestLayout layout, IReadOnlyList<FrameRun> bootRuns, bool reattaching)
    {
        _devices = _options.Simulated ? OpenSimulator(layout, bootRuns, reattaching) : XenDevices.OpenHost();
        _session = XenGuestSession.Open(_devices, _options.Domid, new XenSessionOptions(), _logging);
        if (!reattaching)
        {
            // XEN_DOMCTL_memory_mapping would silently replace RAM: nothing of the guest's may lie under the window.
            _session.EnsureUnpopulated(bootRuns);
            return;
        }
        // A domain that is gone took everything the predecessor mapped with it: nothing to re-attach to.
        try
        {
            _session.Dm.NrVcpus();
        }
        catch (XenException e) when (e.Errno == XenConstants.XEN_ESRCH)
        {
            throw new UserErrorException($"cannot re-attach: domain {_options.Domid} no longer exists ({e.Message}); the previous companion's mappings went with it: remove its state file");
        }
    }

    /// <inheritdoc/>
    public IMailboxPage OpenMailbox(ulong gpa, bool adopt)
    {
        ulong gfn = gpa >> 12;
        if (!adopt)
        {
            // A fresh RAM page the guest's AML reaches at dsm_mailbox; hvmloader's E820 keeps the OS off it.
            Session.PopulateRamPage(gfn);
            _populatedMailbox = gfn;
        }
        return new ForeignMailbox(Session.Foreign.MapPage(gfn));
    }

    /// <inheritdoc/>
    public Task MapAsync(PlannedDevice device, IReadOnlyList<FrameRun> runs, CancellationToken cancel)
    {
        if (_restricted)
            throw new UserErrorException($"slot {device.Slot}: this companion runs with --restrict: its privcmd is restricted to the domain and can no longer map memory; hot-add needs a companion started without --restrict");
        Session.EnsureUnpopulated(runs); // nothing of the guest's may lie under the new frames
        Session.Pmem.Map(runs);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public void Adopt(CompanionRecord previous, IReadOnlyList<FrameRun> runs)
    {
        try
        {
            Session.Pmem.Adopt(previous.PmemInterface!, runs);
        }
        catch (InvalidOperationException e)
        {
            throw new UserErrorException($"cannot re-attach to domain {_options.Domid}: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    public IDoorbell StartDoorbell(ushort port, Action ring, ushort? deadServer)
    {
        if (deadServer is ushort dead)
            DestroyDeadServer(dead);
        // Under Xen the doorbell traps synchronously: the request is served before the vCPU resumes.
        var server = Session.StartIoreqServer([new IoRange(IoSpace.Port, port, port)], request =>
        {
            if (!request.IsRead)
                ring();
            return 0;
        });
        return new IoreqDoorbell(Session, server);
    }

    /// <inheritdoc/>
    public void NotifyFitChanged(uint? eventIrq)
    {
        if (eventIrq is not uint irq)
            return;
        try
        {
            Session.IsaIrq((byte)irq).Pulse(TimeSpan.FromMilliseconds(1));
        }
        catch (XenException e)
        {
            // The FIT has grown; a guest that misses the event sees the device at its next _FIT read.
            _logger.LogWarning("dom{Domid}: hot-add event on IRQ {Irq} failed: {Error}", _options.Domid, irq, e.Message);
        }
    }

    /// <inheritdoc/>
    public Task<Task<int>> LaunchAsync(GuestLayout layout, CancellationToken cancel)
    {
        if (_options.Restrict)
        {
            Session.Restrict();
            _restricted = true;
            _logger.LogInformation("privcmd and evtchn restricted to dom{Domid}", _options.Domid);
        }
        // The guest is xl's: it runs (or is unpaused) without us, and its end is the domain's release.
        return Task.FromResult(new TaskCompletionSource<int>().Task);
    }

    /// <inheritdoc/>
    public Task StopGuestAsync() => Task.CompletedTask;

    /// <inheritdoc/>
    public void RollBack()
    {
        if (_session is null)
            return;
        _session.Pmem.Unmap();
        if (_populatedMailbox is ulong gfn)
            _session.RemoveRamPage(gfn);
        _populatedMailbox = null;
    }

    /// <inheritdoc/>
    public void Detach() => _session?.Detach();

    /// <inheritdoc/>
    public void DomainGone()
    {
        // Real Xen has destroyed the domain by now; in sim there is no xl, so the release xenstored
        // announced stands for the destroy, done here, before teardown, as Xen would have done it.
        Simulator?.DestroyDomain(_options.Domid);
        _session?.MarkDomainGone();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _session?.Dispose();
        _session = null;
        _devices?.Dispose();
        _devices = null;
        if (Simulator is { } sim)
        {
            if (sim.Domain(_options.Domid) is { } domain)
                _logger.LogInformation("sim teardown: dom{Domid} p2m holds {Frames} mapped frames in {Ranges} ranges, {Servers} ioreq servers; hypercalls {Counters}",
                    _options.Domid, domain.P2m.MappedFrames, domain.P2m.RangeCount, domain.IoreqServers.Count,
                    string.Join(", ", sim.Counters.Snapshot().OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}")));
            sim.Dispose();
            Simulator = null;
        }
    }

    private void DestroyDeadServer(ushort id)
    {
        try
        {
            Session.Dm.DestroyIoreqServer(id);
            _logger.LogInformation("dom{Domid}: destroyed the dead companion's ioreq server {Id}", _options.Domid, id);
        }
        catch (XenException e) when (e.Errno == XenConstants.XEN_ENOENT)
        {
            _logger.LogInformation("dom{Domid}: the dead companion's ioreq server {Id} is already gone", _options.Domid, id);
        }
    }

    private XenDevices OpenSimulator(GuestLayout layout, IReadOnlyList<FrameRun> runs, bool reattaching)
    {
        // The simulated host knows as pmem exactly the SPA range the backings were assumed at.
        ulong first = runs.Select(f => f.Mfn).DefaultIfEmpty(0UL).Min();
        ulong end = runs.Select(f => f.Mfn + f.Count).DefaultIfEmpty(0UL).Max();
        ulong spaBase = (_options.AssumeSpaBase ?? 0) >> 12;
        // In sim mode the hypervisor lives in this process, so a killed companion would take its domain
        // with it, where a real Xen outlives its device models. To stay honest the simulator persists its
        // domains next to the state file and is restored from there.
        string dir = Path.Combine(_options.StateDirectory, $"{_options.Domid}.sim");
        SimHypervisor sim;
        try
        {
            sim = new SimHypervisor(new SimHypervisorOptions
            {
                PmemRegions = [(Math.Min(first, spaBase), Math.Max(end, spaBase + (1UL << 26)) - Math.Min(first, spaBase))],
                PersistDirectory = dir,
            });
        }
        catch (InvalidDataException e)
        {
            throw new UserErrorException($"the simulated hypervisor's state cannot be restored: {e.Message}", e);
        }
        Simulator = sim;
        // A re-attach needs the domain the predecessor served; a fresh start creates it unless it lives on.
        if (sim.Domain(_options.Domid) is null && !reattaching)
            sim.CreateDomain(_options.Domid, memoryMap: layout.MemoryMap);
        return sim.OpenDevices();
    }

    /// <summary>The mailbox page, foreign-mapped.</summary>
    private sealed class ForeignMailbox(ForeignPage page) : IMailboxPage
    {
        public Span<byte> Bytes => page.Bytes;

        public bool MayBeCleared => false;

        public void Dispose() => page.Dispose();
    }

    /// <summary>The doorbell as an ioreq server of the session.</summary>
    private sealed class IoreqDoorbell(XenGuestSession session, IIoreqServer server) : IDoorbell
    {
        public ushort? ServerId => server.Id;

        public Task<string> Fault { get; } = server.Fault.ContinueWith(t => t.Result.Message, TaskContinuationOptions.OnlyOnRanToCompletion);

        public void Dispose() => session.StopIoreqServer(server);
    }
}

/// <summary>Options of the xen and sim backends.</summary>
/// <param name="Domid">The guest.</param>
/// <param name="Simulated">Run against the in-process simulated hypervisor instead of /dev/xen.</param>
/// <param name="StateDirectory">Where the simulator persists its domains (beside the state files).</param>
/// <param name="AssumeSpaBase">Sim: the SPA the backings are assumed at (sizes the simulated host pmem).</param>
/// <param name="Restrict">Restrict privcmd and evtchn to the domain once serving (hot-add is then refused).</param>
internal sealed record XenBackendOptions(ushort Domid, bool Simulated, string StateDirectory, ulong? AssumeSpaBase = null, bool Restrict = false);
