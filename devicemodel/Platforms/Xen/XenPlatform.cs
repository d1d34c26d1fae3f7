using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using XenVnvdimm.Acpi.Ssdt;
using XenVnvdimm.DeviceModel.Backing;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Dsm;
using XenVnvdimm.DeviceModel.Labels;
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
/// </summary>
internal sealed class XenPlatform : IHotAddTarget
{
    private readonly XenRunOptions _options;
    private readonly ILoggerFactory _logging;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _hotAddGate = new(1, 1);
    private readonly object _pageLock = new();
    private readonly Stack<IDisposable> _undo = new();

    private GuestLayout? _layout;
    private XenGuestSession? _session;
    private DsmService? _dsm;
    private MutableFitSource? _fit;
    private ForeignPage? _mailbox;

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

    public async Task<int> RunAsync(CancellationToken cancel)
    {
        var config = VnvdimmConfig.Load(_options.ConfigPath, GuestPlatform.Xen, _logger);
        var layout = LayoutPlanner.Plan(config);
        // Refuses a second companion for the domain, or one left behind by a crash, before anything is touched.
        using var stateFile = CompanionStateFile.Acquire(_options.Domid, _options.Simulated ? "sim" : "xen");
        var xs = await CompanionXenStore.ConnectAsync(_options.Domid, _logger, cancel, _options.XenStorePath);
        try
        {
            await xs.StartingAsync(cancel);

            // Backings: resolved twice and compared, locked for this guest until we exit.
            var runs = new List<FrameRun>();
            var resolved = new List<BackingResolution>();
            foreach (var d in layout.Devices)
            {
                var r = Resolve(d);
                resolved.Add(r);
                runs.AddRange(r.FrameRuns().Select(f => f with { Gfn = f.Gfn + (d.Gpa >> 12) }));
            }

            var devices = OpenDevices(resolved);
            _undo.Push(devices);
            var session = XenGuestSession.Open(devices, _options.Domid, new XenSessionOptions(), _logging);
            _undo.Push(session);
            _session = session;

            // Mailbox: a fresh RAM page the guest's AML reaches at dsm_mailbox.
            ulong mailboxGfn = layout.MailboxGpa >> 12;
            session.PopulateRamPage(mailboxGfn);
            _mailbox = session.Foreign.MapPage(mailboxGfn);
            _undo.Push(_mailbox);

            // Guest pmem frames: all-or-nothing; session disposal removes them.
            var sw = System.Diagnostics.Stopwatch.StartNew();
            long ioctls = session.Privcmd.IoctlCount;
            session.Pmem.Map(runs);
            _logger.LogInformation("mapped {Pages} pages in {Runs} runs with {Interface}: {Ioctls} ioctls, {Ms:0.0} ms",
                runs.Sum(r => (long)r.Count), runs.Count, session.Pmem.Interface, session.Privcmd.IoctlCount - ioctls, sw.Elapsed.TotalMilliseconds);

            var dsmDevices = new List<DsmDevice>();
            foreach (var d in layout.Devices)
                dsmDevices.Add(new DsmDevice(d.Handle, OpenLabels(d)));
            _fit = new MutableFitSource(GuestTables.BuildNfit(layout).ToFitBuffer());
            _dsm = new DsmService(dsmDevices, _fit, _logging.CreateLogger("dsm"));
            lock (_pageLock)
                _dsm.Publish(_mailbox.Bytes);
            _layout = layout;

            // Under Xen the doorbell traps synchronously: the request is served before the vCPU resumes.
            session.StartIoreqServer([new IoRange(IoSpace.Port, layout.DoorbellPort, layout.DoorbellPort)], Doorbell);

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
                _logger.LogInformation("dom{Domid} was released: tearing down", _options.Domid);
            stop.Cancel();
            await StageUndo.Quietly(commands);
            await xs.SetStateAsync("stopping", CancellationToken.None);
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

    private BackingResolution Resolve(PlannedDevice d)
    {
        var r = BackingResolver.Resolve(d.Backend, new BackingOptions
        {
            AssumeSpaBase = _options.AssumeSpaBase,
            Lock = BackingLockMode.Exclusive,
            Alignment = d.Align,
        });
        _undo.Push(r);
        r.EnsureAccepted();
        if (r.Size < d.Size)
            throw new UserErrorException($"slot {d.Slot}: backend '{d.Backend}' resolves to {r.Size} bytes, fewer than the {d.Size} configured");
        return r;
    }

    private ILabelStore? OpenLabels(PlannedDevice d)
    {
        if (d.LabelFile is null)
            return null;
        Directory.CreateDirectory(Path.GetDirectoryName(d.LabelFile)!);
        var store = FileLabelStore.Open(d.LabelFile, checked((int)d.LabelSize));
        _undo.Push(store);
        return store;
    }

    private XenDevices OpenDevices(IReadOnlyList<BackingResolution> resolved)
    {
        if (!_options.Simulated)
            return XenDevices.OpenHost();
        // The simulated host knows as pmem exactly the SPA range the backings were assumed at.
        ulong first = resolved.SelectMany(r => r.FrameRuns()).Select(f => f.Mfn).DefaultIfEmpty(0UL).Min();
        ulong end = resolved.SelectMany(r => r.FrameRuns()).Select(f => f.Mfn + f.Count).DefaultIfEmpty(0UL).Max();
        ulong spaBase = (_options.AssumeSpaBase ?? 0) >> 12;
        var sim = new SimHypervisor(new SimHypervisorOptions
        {
            PmemRegions = [(Math.Min(first, spaBase), Math.Max(end, spaBase + (1UL << 26)) - Math.Min(first, spaBase))],
        });
        _undo.Push(sim);
        var domain = sim.CreateDomain(_options.Domid);
        // Runs after the session's teardown, before the simulator goes: what did teardown leave?
        _undo.Push(new StageUndo(() => _logger.LogInformation(
            "sim teardown: dom{Domid} p2m holds {Frames} mapped frames in {Ranges} ranges (the mailbox RAM page stays with the domain); hypercalls {Counters}",
            _options.Domid, domain.P2m.MappedFrames, domain.P2m.RangeCount, sim.Counters)));
        Simulator = sim;
        return sim.OpenDevices();
    }

    /// <summary>
    /// Hot-add: resolve and lock the backing, map its frames, serve its DSM calls, grow the FIT
    /// (a strict superset), then pulse the GED interrupt so the guest re-evaluates _FIT.
    /// On failure nothing stays mapped and the FIT is unchanged.
    /// </summary>
    public async Task<PlannedDevice> AddAsync(VnvdimmDeviceSpec spec, CancellationToken cancel)
    {
        await _hotAddGate.WaitAsync(cancel);
        try
        {
            var layout = _layout ?? throw new UserErrorException("the companion is not serving yet");
            if (_options.Restrict)
                throw new UserErrorException($"{spec.Name}: this companion runs with --restrict: its privcmd is restricted to the domain and can no longer map memory; hot-add needs a companion started without --restrict");
            var next = LayoutPlanner.PlanHotAdd(layout, spec);
            var d = next.Devices[^1];
            byte[] nextFit = GuestTables.BuildNfit(next).ToFitBuffer();
            if (!_fit!.IsSuperset(nextFit))
                throw new UserErrorException($"{spec.Name}: the new FIT would drop entries of the current one");
            var r = Resolve(d);
            var runs = r.FrameRuns().Select(f => f with { Gfn = f.Gfn + (d.Gpa >> 12) }).ToList();
            try
            {
                _session!.Pmem.Map(runs);
            }
            catch (XenException e)
            {
                throw new UserErrorException($"{spec.Name}: Xen refused the mapping: {e.Message}");
            }
            _dsm!.AddDevice(new DsmDevice(d.Handle, OpenLabels(d)));
            _fit.Replace(nextFit);
            _layout = next;
            if (layout.EventIrq is uint irq)
                _session.IsaIrq((byte)irq).Pulse(TimeSpan.FromMilliseconds(1));
            _logger.LogInformation("hot-added slot {Slot}: {Backend} at 0x{Gpa:x}", d.Slot, d.Backend, d.Gpa);
            return d;
        }
        finally
        {
            _hotAddGate.Release();
        }
    }


}
