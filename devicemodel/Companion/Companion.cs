using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Dsm;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Platforms.Qemu;
using XenVnvdimm.DeviceModel.Tables;
using XenVnvdimm.DeviceModel.Xen;

namespace XenVnvdimm.DeviceModel.Companion;

/// <summary>
/// The one owner of a guest's vNVDIMM lifecycle, for every platform: layout, FIT, DSM service, labels,
/// xenstore, the hot-add transaction and the safety rules. The platform is a thin
/// <see cref="ICompanionBackend"/>. Start-up is staged; a failed start is rolled back in reverse. The
/// rule above all: frames leave a live guest only when the guest is gone. A bad command, a lost
/// xenstored, a doorbell fault or SIGTERM leave the guest's pmem mapped and its record on disk; only the
/// rollback of a start or hot-add the guest never saw unmaps.
/// </summary>
internal sealed partial class Companion : IHotAddTarget
{
    private readonly CompanionOptions _options;
    private readonly GuestLayout _planned;
    private readonly ICompanionBackend _backend;
    private readonly ILoggerFactory _logging;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _hotAddGate = new(1, 1);
    private readonly object _pageLock = new();
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;

    // Backing locks and label stores, of boot and hot-added devices: released last, after the guest's
    // frames were dealt with, never before.
    private readonly Stack<IDisposable> _holds = new();
    private readonly Dictionary<int, IReadOnlyList<FrameRun>> _runsBySlot = [];

    private GuestLayout? _layout;
    private DsmService? _dsm;
    private MutableFitSource? _fit;
    private IMailboxPage? _mailbox;
    private IDoorbell? _doorbell;
    private CompanionStateFile? _state;
    private CompanionXenStore? _xs;

    /// <summary>A companion for the guest <paramref name="planned"/> describes, on <paramref name="backend"/>.</summary>
    public Companion(CompanionOptions options, GuestLayout planned, ICompanionBackend backend, ILoggerFactory logging)
    {
        _options = options;
        _planned = planned;
        _backend = backend;
        _logging = logging;
        _logger = logging.CreateLogger(backend.Name);
    }

    /// <summary>Completes once the companion is serving (state=running).</summary>
    public TaskCompletionSource Running { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Why the companion stopped, once it did.</summary>
    public StopReason? Stopped { get; private set; }

    /// <summary>The layout served now (boot devices plus hot-added ones).</summary>
    public GuestLayout? Layout => _layout;

    /// <summary>The DSM service, once serving (statistics for benchmarks).</summary>
    public DsmService? Dsm => _dsm;

    private string Who => _options.Domid is ushort d ? $"dom{d}" : "guest";

    /// <summary>Starts, serves until the guest is gone, a signal arrives or <paramref name="cancel"/> fires, and stops.</summary>
    /// <returns>0, or the qemu guest's exit status.</returns>
    public async Task<int> RunAsync(CancellationToken cancel)
    {
        _backend.Check(_planned);
        // Refuses a second companion for the domain before anything is touched; hands over a predecessor's record.
        if (_backend.OutlivesCompanion && _options.Domid is ushort stateDomid)
        {
            _state = CompanionStateFile.Acquire(_options.StateDirectory, stateDomid, _backend.Name);
            // Until the predecessor's mappings are taken over, a refusal must leave its record for the next attempt.
            _state.Keep = _state.Previous is not null;
        }
        var previous = _state?.Previous;
        bool mapped = false;
        try
        {
            if (_options.Domid is ushort domid)
                _xs = await CompanionXenStore.ConnectAsync(domid, _logger, cancel, _options.XenStorePath);
            try
            {
                var layout = await StartAsync(previous, () => mapped = true, cancel);
                return await ServeAsync(layout, cancel);
            }
            catch (Exception e) when (e is UserErrorException or XenException)
            {
                Running.TrySetException(e);
                // Only a start the guest never saw is rolled back: a predecessor's adopted frames stay.
                if (mapped && previous is null)
                    _backend.RollBack();
                if (_xs is not null)
                    await _xs.TrySetStateAsync("error", e.Message);
                throw e is XenException ? new UserErrorException(e.Message, e) : e;
            }
        }
        finally
        {
            ReleaseLocal();
            if (_xs is not null)
                await _xs.DisposeAsync();
            _state?.Dispose();
        }
    }

    /// <summary>The staged start: backings, platform, mailbox, frames, labels, FIT, DSM, doorbell, record.</summary>
    private async Task<GuestLayout> StartAsync(CompanionRecord? previous, Action mapped, CancellationToken cancel)
    {
        var layout = previous is null ? _planned : ReattachCheck.FullLayout(previous, _backend.Name, _planned, _state!.Path);
        if (_xs is not null)
        {
            if (previous is null)
                await _xs.StartingAsync(cancel);
            else
                await _xs.ReattachingAsync(cancel);
        }
        if (previous is not null)
            _logger.LogWarning("{Who}: a previous companion ({Previous}) {How}: re-attaching to what it mapped", Who, previous.Summary,
                previous.Phase == CompanionRecord.Stopped ? "stopped and left the guest its pmem" : "died without cleaning up");

        // Backings: resolved, checked and locked for this guest before anything is mapped.
        foreach (var d in layout.Devices)
        {
            var runs = _backend.MapsFrames ? BackingStages.Resolve(d, _options, _holds) : [];
            if (previous is not null && _backend.MapsFrames)
                ReattachCheck.EnsureSameFrames(previous, d, runs, _state!.Path);
            _runsBySlot[d.Slot] = runs;
        }
        var allRuns = layout.Devices.SelectMany(d => _runsBySlot[d.Slot]).ToList();

        _backend.Open(layout, allRuns, reattaching: previous is not null);
        _mailbox = _backend.OpenMailbox(layout.MailboxGpa, adopt: previous is not null);
        if (previous is null)
        {
            mapped(); // the mailbox page is in the guest from here on
            var sw = System.Diagnostics.Stopwatch.StartNew();
            foreach (var d in layout.Devices)
                await _backend.MapAsync(d, _runsBySlot[d.Slot], cancel);
            if (_backend.MapsFrames)
                _logger.LogInformation("{Who}: mapped {Pages} pages in {Runs} runs with {Interface} in {Ms:0.0} ms",
                    Who, allRuns.Sum(r => (long)r.Count), allRuns.Count, _backend.PmemInterface, sw.Elapsed.TotalMilliseconds);
        }
        else
        {
            _backend.Adopt(previous, allRuns);
            // From here on they are ours; what a live guest uses still stays when we stop.
            _state!.Keep = false;
            _logger.LogInformation("{Who}: re-attached: took over {Pages} pages in {Runs} runs ({Interface}) and the mailbox page at gfn 0x{Gfn:x} without mapping them again",
                Who, allRuns.Sum(r => (long)r.Count), allRuns.Count, previous.PmemInterface, layout.MailboxGpa >> 12);
        }

        var dsmDevices = new List<DsmDevice>();
        foreach (var d in layout.Devices)
            dsmDevices.Add(new DsmDevice(d.Handle, BackingStages.OpenLabels(d, _holds)));
        _fit = new MutableFitSource(GuestTables.BuildNfit(layout).ToFitBuffer());
        _dsm = new DsmService(dsmDevices, _fit, _logging.CreateLogger("dsm"));
        lock (_pageLock)
        {
            if (previous is null)
                _dsm.Publish(_mailbox.Bytes);
            else if (_dsm.Resume(_mailbox.Bytes))
                _logger.LogInformation("{Who}: answered the DSM request the guest had left pending", Who);
        }
        _layout = layout;

        if (previous is not null)
            Record(CompanionRecord.Serving, server: null);
        _doorbell = _backend.StartDoorbell(layout.DoorbellPort, Ring, previous?.IoreqServer);
        Record(CompanionRecord.Serving, _doorbell.ServerId);
        return layout;
    }

    /// <summary>The doorbell: one DSM request served from the mailbox page.</summary>
    private void Ring()
    {
        lock (_pageLock)
            _dsm!.HandleDoorbell(_mailbox!.Bytes);
    }

    /// <summary>Records everything now live in the domain, so a successor can re-attach to it.</summary>
    private void Record(string phase, ushort? server)
    {
        if (_state is null || _layout is null)
            return;
        var devices = _layout.Devices.Select(d => RecordedDevice.Of(d,
            _planned.Devices.Any(p => p.Slot == d.Slot) ? RecordedDevice.FromConfig : RecordedDevice.FromHotAdd,
            RecordedDevice.Mapped, _runsBySlot[d.Slot]));
        _state.Record(new CompanionRecord(Environment.ProcessId, _backend.Name, _started, _options.Domid!.Value, phase,
            RecordedLayout.Of(_layout), _layout.MailboxGpa >> 12, server, _backend.PmemInterface, [.. devices]));
    }

    /// <summary>Releases what only this process holds: the doorbell, label stores, mappings of guest pages, locks.</summary>
    private void ReleaseLocal()
    {
        Try(() => _doorbell?.Dispose());
        _doorbell = null;
        Try(() => _mailbox?.Dispose());
        _mailbox = null;
        Try(_backend.Dispose);
        while (_holds.Count > 0)
            Try(_holds.Pop().Dispose);
    }

    private void Try(Action step)
    {
        try
        {
            step();
        }
        catch (Exception e) when (e is XenException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            _logger.LogError("{Who}: teardown: {Message}", Who, e.Message);
        }
    }
}
