using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Dsm;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Platforms.Qemu;
using XenVnvdimm.DeviceModel.Tables;
using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.DeviceModel.Xen.Foreign;
using XenVnvdimm.DeviceModel.Xen.Ioreq;
using XenVnvdimm.DeviceModel.Xen.Sim;

namespace XenVnvdimm.DeviceModel.Platforms.Xen;

/// <summary>
/// <c>run --platform xen|sim</c>: the companion of one HVM guest. Staged start-up, each stage
/// undone in reverse on failure or exit: validate config; resolve and lock backings; open
/// privcmd/evtchn (or the simulated hypervisor); populate and map the mailbox page; populate
/// the pmem frames; create the ioreq server for the doorbell and enable it; publish in
/// xenstore; then serve DSM calls and hot-add commands until SIGTERM/SIGINT or @releaseDomain.
/// After a crash the next companion re-attaches to what the dead one left instead (see
/// XenPlatform.Reattach.cs). A clean exit publishes state=stopping, undoes every stage and then
/// removes the companion's xenstore subtree.
/// </summary>
internal sealed partial class XenPlatform : IHotAddTarget
{
    private readonly XenRunOptions _options;
    private readonly ILoggerFactory _logging;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _hotAddGate = new(1, 1);
    private readonly object _pageLock = new();
    private readonly Stack<IDisposable> _undo = new();
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;

    // Backing locks and label stores of hot-added devices: released with the start-up backings,
    // after the frames are out of the guest, never before.
    private readonly List<IDisposable> _hotAddHolds = [];

    private GuestLayout? _layout;
    private GuestLayout? _planned;
    private XenGuestSession? _session;
    private DsmService? _dsm;
    private MutableFitSource? _fit;
    private ForeignPage? _mailbox;
    private CompanionStateFile? _state;
    private volatile bool _released;

    public XenPlatform(XenRunOptions options, ILoggerFactory logging)
    {
        _options = options;
        _logging = logging;
        _logger = logging.CreateLogger(options.Simulated ? "sim" : "xen");
    }

    /// <summary>The simulated hypervisor of a <c>--platform sim</c> run (tests drive its vCPUs).</summary>
    public SimHypervisor? Simulator { get; private set; }

    /// <summary>Completes once the companion is serving (state=running).</summary>
    public TaskCompletionSource Running { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private string PlatformName => _options.Simulated ? "sim" : "xen";

    public async Task<int> RunAsync(CancellationToken cancel)
    {
        var config = VnvdimmConfig.Load(_options.ConfigPath, GuestPlatform.Xen, _logger);
        var planned = LayoutPlanner.Plan(config);
        _planned = planned;
        // Refuses a second companion for the domain before anything is touched; hands over a dead one's record.
        using var stateFile = CompanionStateFile.Acquire(_options.Domid, PlatformName);
        _state = stateFile;
        var previous = stateFile.Previous;
        // Until the dead companion's mappings are taken over, a refusal must leave its record for the next attempt.
        stateFile.Keep = previous is not null;
        var xs = await CompanionXenStore.ConnectAsync(_options.Domid, _logger, cancel, _options.XenStorePath);
        bool clean = false;
        try
        {
            var layout = previous is null ? planned : ReattachCheck.FullLayout(previous, PlatformName, planned, stateFile.Path);
            if (previous is null)
            {
                await xs.StartingAsync(cancel);
            }
            else
            {
                _logger.LogWarning("dom{Domid}: a previous companion ({Previous}) died without cleaning up: re-attaching to what it mapped",
                    _options.Domid, previous.Summary);
                await xs.ReattachingAsync(cancel);
            }

            // Backings: resolved twice and compared, locked for this guest until we exit.
            var runsBySlot = new Dictionary<int, List<FrameRun>>();
            var resolved = new Dictionary<int, Backing.BackingResolution>();
            foreach (var d in layout.Devices)
            {
                var r = Resolve(d);
                _undo.Push(r);
                resolved[d.Slot] = r;
                Accept(r, d);
                runsBySlot[d.Slot] = GuestRuns(r, d);
                if (previous is not null)
                    ReattachCheck.EnsureSameFrames(previous, d, runsBySlot[d.Slot], stateFile.Path);
            }
            _undo.Push(new StageUndo(ReleaseHotAddHolds));
            var runs = layout.Devices.SelectMany(d => runsBySlot[d.Slot]).ToList();

            var devices = OpenDevices(runs, reattaching: previous is not null);
            _undo.Push(devices);
            _guard = OpenGuard(devices, previous);
            _undo.Push(new StageUndo(ReleaseClaimsIfUnmapped));
            var session = XenGuestSession.Open(devices, _options.Domid, new XenSessionOptions(), _logging);
            _undo.Push(session);
            _session = session;

            ulong mailboxGfn = layout.MailboxGpa >> 12;
            foreach (var d in layout.Devices)
                _guard.Admit(resolved[d.Slot], d.Slot, d.Backend, runsBySlot[d.Slot]);
            if (previous is null)
                MapFresh(session, mailboxGfn, runs);
            else
                TakeOver(session, previous, mailboxGfn, runs);

            var dsmDevices = new List<DsmDevice>();
            foreach (var d in layout.Devices)
            {
                var labels = OpenLabels(d);
                if (labels is IDisposable l)
                    _undo.Push(l);
                dsmDevices.Add(new DsmDevice(d.Handle, labels));
            }
            _fit = new MutableFitSource(GuestTables.BuildNfit(layout).ToFitBuffer());
            _dsm = new DsmService(dsmDevices, _fit, _logging.CreateLogger("dsm"));
            lock (_pageLock)
            {
                if (previous is null)
                    _dsm.Publish(_mailbox!.Bytes);
                else if (_dsm.Resume(_mailbox!.Bytes))
                    _logger.LogInformation("dom{Domid}: answered the DSM request the guest had left pending", _options.Domid);
            }
            _layout = layout;

            if (previous?.IoreqServer is ushort dead)
            {
                DestroyDeadServer(session, dead);
                RecordServing(layout, runsBySlot, mailboxGfn, server: null);
            }
            // Under Xen the doorbell traps synchronously: the request is served before the vCPU resumes.
            var server = session.StartIoreqServer([new IoRange(IoSpace.Port, layout.DoorbellPort, layout.DoorbellPort)], Doorbell);
            _undo.Push(server); // stopped first at teardown, while the mailbox page is still mapped
            RecordServing(layout, runsBySlot, mailboxGfn, server.Id);

            if (_options.Restrict)
            {
                session.Restrict();
                _logger.LogInformation("privcmd and evtchn restricted to dom{Domid}", _options.Domid);
            }
            foreach (var d in layout.Devices)
                await xs.PublishDeviceAsync(d, "running", cancel);
            await xs.SetStateAsync("running", cancel);
            Running.TrySetResult();
            _logger.LogInformation("serving dom{Domid}: {Count} vNVDIMMs", _options.Domid, layout.Devices.Count);

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.Cancel(); });
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; stop.Cancel(); });
            var commands = xs.ServeCommandsAsync(this, stop.Token);
            var released = xs.WaitForReleaseAsync(stop.Token);
            var finished = await Task.WhenAny(commands, released, Task.Delay(Timeout.Infinite, stop.Token));
            if (finished == released && released.IsCompletedSuccessfully)
            {
                _released = true;
                // Real Xen has destroyed the domain by now; the simulator destroys it after teardown.
                if (!_options.Simulated)
                    _session?.MarkDomainGone();
                _logger.LogInformation("dom{Domid} was released: tearing down", _options.Domid);
            }
            else
            {
                _logger.LogInformation("dom{Domid}: stopping: tearing down", _options.Domid);
            }
            stop.Cancel();
            await StageUndo.Quietly(commands);
            // A restricted privcmd cannot take the frames and the mailbox page out again: they stay
            // live until the domain goes, so the record stays for a successor to re-attach to.
            if (_options.Restrict && !_released)
                stateFile.Keep = true;
            await xs.SetStateAsync("stopping", CancellationToken.None);
            clean = true;
            if (_dsm is not null)
                _logger.LogInformation("DSM calls served: {Calls}; {Times}", _dsm.Statistics, _dsm.Statistics.ServiceTimes());
            return 0;
        }
        catch (Exception e) when (e is UserErrorException or XenException)
        {
            Running.TrySetException(e);
            await xs.SetStateAsync("error", CancellationToken.None, e.Message);
            throw e is XenException ? new UserErrorException(e.Message, e) : e;
        }
        finally
        {
            while (_undo.Count > 0)
            {
                try { _undo.Pop().Dispose(); }
                catch (Exception ex) when (ex is XenException or IOException) { _logger.LogError("teardown: {Message}", ex.Message); }
            }
            // An error state stays for the administrator to read; a clean exit leaves nothing behind.
            if (clean)
                await RemoveNodesAsync(xs);
            await xs.DisposeAsync();
        }
    }

    private ulong Doorbell(IoRequest request)
    {
        if (!request.IsRead)
        {
            lock (_pageLock)
                _dsm!.HandleDoorbell(_mailbox!.Bytes);
        }
        return 0;
    }

    private async Task RemoveNodesAsync(CompanionXenStore xs)
    {
        try
        {
            await xs.RemoveAsync(CancellationToken.None);
            _logger.LogInformation("removed {Path} from xenstore", XenStoreLayout.Base(_options.Domid));
        }
        catch (Exception e) when (e is XenVnvdimm.XenStore.XenStoreException or XenVnvdimm.XenStore.XenStoreConnectionException or IOException or System.Net.Sockets.SocketException)
        {
            _logger.LogWarning("could not remove {Path} from xenstore: {Error}", XenStoreLayout.Base(_options.Domid), e.Message);
        }
    }

    private void ReleaseHotAddHolds()
    {
        for (int i = _hotAddHolds.Count - 1; i >= 0; i--)
            _hotAddHolds[i].Dispose();
        _hotAddHolds.Clear();
    }
}
