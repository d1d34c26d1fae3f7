using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using XenVnvdimm.Acpi.Ssdt;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Dsm;
using XenVnvdimm.DeviceModel.Labels;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Tables;

namespace XenVnvdimm.DeviceModel.Platforms.Qemu;

/// <summary>
/// The embedded default platform: a real Linux guest under QEMU TCG with exactly the tables a
/// Xen guest gets, the vNVDIMM backings as pc-dimms at the planned addresses, the DSM mailbox
/// in guest RAM backed by a shared file (hidden from the guest with memmap=), the doorbell as
/// QEMU's isa-debugcon on the doorbell port forwarding to our socket, and QMP for control.
/// Resources are acquired in stages and released in reverse order.
/// </summary>
internal sealed class QemuPlatform : IHotAddTarget
{
    private readonly QemuRunOptions _options;
    private readonly ILoggerFactory _logging;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _hotAddGate = new(1, 1);
    private readonly List<IDisposable> _hotAdded = [];

    // Set up by RunAsync before hot-add commands are served.
    private GuestLayout? _layout;
    private DsmService? _dsm;
    private MutableFitSource? _fit;
    private QmpClient? _qmp;

    public QemuPlatform(QemuRunOptions options, ILoggerFactory logging)
    {
        _options = options;
        _logging = logging;
        _logger = logging.CreateLogger("qemu");
    }

    /// <summary>Runs the guest to completion; returns the guest script's exit status.</summary>
    public async Task<int> RunAsync(CancellationToken cancel)
    {
        // Stage 1: configuration, layout and tables (nothing acquired yet).
        var config = VnvdimmConfig.Load(_options.ConfigPath, GuestPlatform.Qemu, _logger);
        var layout = LayoutPlanner.Plan(config);
        if (layout.MailboxGpa + MailboxProtocol.PageSize > _options.GuestMemory)
            throw new UserErrorException($"dsm_mailbox 0x{layout.MailboxGpa:x} is outside the qemu guest's {_options.GuestMemory >> 20} MiB of RAM");
        if (layout.Devices.Count > 8)
            throw new UserErrorException($"the qemu platform has 8 memory slots; {layout.Devices.Count} vnvdimms configured");
        var tables = GuestTables.Build(layout);

        var undo = new Stack<IDisposable>();
        CompanionXenStore? xs = null;
        try
        {
            if (_options.Domid is uint domid)
            {
                xs = await CompanionXenStore.ConnectAsync(domid, _logger, cancel);
                await xs.StartingAsync(cancel);
            }

            string dir = _options.RunDirectory ?? Directory.CreateTempSubdirectory("xen-vnvdimm-qemu-").FullName;
            if (_options.RunDirectory is null)
                undo.Push(new StageUndo(() => Directory.Delete(dir, recursive: true)));
            Directory.CreateDirectory(dir);
            string nfit = Path.Combine(dir, "NFIT.bin"), ssdt = Path.Combine(dir, "SSDT.aml");
            File.WriteAllBytes(nfit, tables.Nfit);
            File.WriteAllBytes(ssdt, tables.Ssdt);

            // Stage 2: guest RAM file and the mailbox page inside it.
            string ram = Path.Combine(dir, "guest-ram");
            using (var f = new FileStream(ram, FileMode.Create))
                f.SetLength((long)_options.GuestMemory);
            var mailbox = new MailboxMapping(ram, layout.MailboxGpa, MailboxProtocol.PageSize);
            undo.Push(mailbox);

            // Stage 3: label stores (locked while the guest runs) and the DSM service.
            var devices = new List<DsmDevice>();
            foreach (var d in layout.Devices)
            {
                ILabelStore? labels = null;
                if (d.LabelFile is not null)
                {
                    var store = FileLabelStore.Open(d.LabelFile, checked((int)d.LabelSize));
                    undo.Push(store);
                    labels = store;
                }
                devices.Add(new DsmDevice(d.Handle, labels));
            }
            var fit = new MutableFitSource(GuestTables.BuildNfit(layout).ToFitBuffer());
            var dsm = new DsmService(devices, fit, _logging.CreateLogger("dsm"));
            object pageLock = new();
            dsm.Publish(mailbox.Page);

            // Stage 4: doorbell socket, then the guest.
            var doorbell = new DoorbellSocket(Path.Combine(dir, "doorbell.sock"));
            undo.Push(doorbell);
            string qmp = Path.Combine(dir, "qmp.sock");

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            var serve = doorbell.ServeAsync(() => { lock (pageLock) dsm.HandleDoorbell(mailbox.Page); }, stop.Token);
            var keeper = KeepSignatureAsync(dsm, mailbox, pageLock, stop.Token);

            var harness = StartHarness(layout, nfit, ssdt, ram, doorbell.Path, qmp);
            undo.Push(new StageUndo(() =>
            {
                if (!harness.HasExited)
                    harness.Kill(entireProcessTree: true);
                harness.Dispose();
            }));
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; _ = PowerOffAsync(qmp); });
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; _ = PowerOffAsync(qmp); });

            _layout = layout;
            _dsm = dsm;
            _fit = fit;
            var background = new List<Task> { serve, keeper };
            if (xs is not null)
            {
                // QEMU under TCG on a loaded host can take a while to open its QMP socket
                _qmp = await QmpClient.ConnectAsync(qmp, TimeSpan.FromSeconds(120), cancel);
                foreach (var d in layout.Devices)
                    await xs.PublishDeviceAsync(d, "running", cancel);
                await xs.SetStateAsync("running", cancel);
                background.Add(xs.ServeCommandsAsync(this, stop.Token));
                background.Add(ReleaseThenPowerOffAsync(xs, qmp, stop.Token));
            }

            await harness.WaitForExitAsync(cancel);
            stop.Cancel();
            await Task.WhenAll(background.Select(StageUndo.Quietly));
            if (xs is not null)
                await xs.SetStateAsync("stopping", CancellationToken.None);
            _logger.LogInformation("guest exited with status {Status}; DSM calls served: {Calls}; {Times}", harness.ExitCode, dsm.Statistics, dsm.Statistics.ServiceTimes());
            return harness.ExitCode;
        }
        catch (UserErrorException e) when (xs is not null)
        {
            await xs.SetStateAsync("error", CancellationToken.None, e.Message);
            throw;
        }
        finally
        {
            if (_qmp is not null)
                await _qmp.DisposeAsync();
            foreach (var h in _hotAdded)
                h.Dispose();
            if (xs is not null)
                await xs.DisposeAsync();
            while (undo.Count > 0)
            {
                try { undo.Pop().Dispose(); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { _logger.LogWarning("cleanup: {Message}", e.Message); }
            }
        }
    }

    private Process StartHarness(GuestLayout layout, string nfit, string ssdt, string ram, string doorbellSocket, string qmpSocket)
    {
        var psi = new ProcessStartInfo(GuestHarness.Locate()) { UseShellExecute = false };
        void Add(params string[] a) { foreach (var s in a) psi.ArgumentList.Add(s); }
        void Qemu(params string[] a) { foreach (var s in a) Add("--qemu-arg", s); }

        Add("--mem", (_options.GuestMemory >> 20).ToString(CultureInfo.InvariantCulture) + "M", "--ram-file", ram);
        // Hide the mailbox page from the guest's memory manager.
        Add("--append", $"memmap=4K${"0x" + layout.MailboxGpa.ToString("x", CultureInfo.InvariantCulture)}");
        Add("--table", nfit, "--table", ssdt, "--timeout", _options.TimeoutSeconds.ToString(CultureInfo.InvariantCulture));
        foreach (var d in layout.Devices)
        {
            Qemu("-object", $"memory-backend-file,id=xv{d.Slot},share=on,mem-path={d.Backend},size={d.Size}",
                 "-device", $"pc-dimm,id=xvd{d.Slot},memdev=xv{d.Slot},addr=0x{d.Gpa:x}");
        }
        Qemu("-chardev", $"socket,id=xvdb,path={doorbellSocket}",
             "-device", $"isa-debugcon,iobase=0x{layout.DoorbellPort:x},chardev=xvdb",
             "-qmp", $"unix:{qmpSocket},server=on,wait=off");
        if (_options.ConsoleLog is not null)
            Add("--log", _options.ConsoleLog, "--quiet");
        if (_options.GuestScript is not null)
            Add("--script", _options.GuestScript);
        else
            Add("-c", "ndctl list -RDN");

        _logger.LogDebug("starting guest: {Harness} {Args}", psi.FileName, string.Join(' ', psi.ArgumentList));
        return Process.Start(psi) ?? throw new UserErrorException($"cannot start {psi.FileName}");
    }

    /// <summary>
    /// Re-publishes the signature if guest firmware cleared the page before the kernel reserved
    /// it; a request in flight is never disturbed (the page is only rewritten when idle and unsigned).
    /// </summary>
    private static async Task KeepSignatureAsync(DsmService dsm, MailboxMapping mailbox, object pageLock, CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            await Task.Delay(100, cancel);
            lock (pageLock)
            {
                var page = mailbox.Page;
                uint sig = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(page);
                uint state = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(page[MailboxProtocol.StateOffset..]);
                if (sig != MailboxProtocol.Signature && state == MailboxProtocol.StateIdle)
                    dsm.Publish(page);
            }
        }
    }

    private async Task PowerOffAsync(string qmpSocket)
    {
        _logger.LogWarning("signal received: stopping the guest");
        try
        {
            await using var qmp = await QmpClient.ConnectAsync(qmpSocket, TimeSpan.FromSeconds(5), CancellationToken.None);
            await qmp.ExecuteAsync("quit", CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            _logger.LogWarning("QMP quit failed: {Message}", e.Message);
        }
    }



    private async Task ReleaseThenPowerOffAsync(CompanionXenStore xs, string qmp, CancellationToken cancel)
    {
        await xs.WaitForReleaseAsync(cancel);
        _logger.LogWarning("domain released (@releaseDomain): stopping");
        await PowerOffAsync(qmp);
    }

    /// <summary>
    /// Hot-add: plan the device above everything present, lock its labels, plug a pc-dimm over
    /// QMP, then serve its DSM calls and grow the FIT (a strict superset). The guest re-reads
    /// _FIT when the nfit driver is re-bound (no host→guest event path under QEMU; see DESIGN.md).
    /// Any failure undoes what was done: nothing stays plugged and the FIT is unchanged.
    /// </summary>
    public async Task<PlannedDevice> AddAsync(VnvdimmDeviceSpec spec, CancellationToken cancel)
    {
        await _hotAddGate.WaitAsync(cancel);
        try
        {
            var layout = _layout ?? throw new UserErrorException("the guest is not running yet");
            if (layout.Devices.Count >= 8)
                throw new UserErrorException($"{spec.Name}: the qemu platform has 8 memory slots and all are in use");
            var next = LayoutPlanner.PlanHotAdd(layout, spec);
            var d = next.Devices[^1];
            byte[] nextFit = GuestTables.BuildNfit(next).ToFitBuffer();
            if (!_fit!.IsSuperset(nextFit))
                throw new UserErrorException($"{spec.Name}: the new FIT would drop entries of the current one");
            FileLabelStore? labels = d.LabelFile is null ? null : FileLabelStore.Open(d.LabelFile, checked((int)d.LabelSize));
            try
            {
                await _qmp!.ExecuteAsync("object-add", cancel,
                    $"{{\"qom-type\":\"memory-backend-file\",\"id\":\"xv{d.Slot}\",\"mem-path\":\"{System.Text.Json.JsonEncodedText.Encode(d.Backend)}\",\"size\":{d.Size},\"share\":true}}");
                try
                {
                    await _qmp.ExecuteAsync("device_add", cancel,
                        $"{{\"driver\":\"pc-dimm\",\"id\":\"xvd{d.Slot}\",\"memdev\":\"xv{d.Slot}\",\"addr\":{d.Gpa}}}");
                }
                catch (InvalidOperationException)
                {
                    await _qmp.ExecuteAsync("object-del", CancellationToken.None, $"{{\"id\":\"xv{d.Slot}\"}}");
                    throw;
                }
            }
            catch (InvalidOperationException e)
            {
                labels?.Dispose();
                throw new UserErrorException($"{spec.Name}: QEMU refused the memory device: {e.Message}");
            }
            if (labels is not null)
                _hotAdded.Add(labels);
            // Serve the device before the FIT that names it is visible.
            _dsm!.AddDevice(new DsmDevice(d.Handle, labels));
            _fit.Replace(nextFit);
            _layout = next;
            _logger.LogInformation("hot-added slot {Slot}: {Backend} at 0x{Gpa:x}, {Size} bytes", d.Slot, d.Backend, d.Gpa, d.Size);
            return d;
        }
        finally
        {
            _hotAddGate.Release();
        }
    }
}
