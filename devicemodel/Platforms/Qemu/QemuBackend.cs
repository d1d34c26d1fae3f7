using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using XenVnvdimm.Acpi.Ssdt;
using XenVnvdimm.DeviceModel.Companion;
using XenVnvdimm.DeviceModel.Dsm;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Tables;

namespace XenVnvdimm.DeviceModel.Platforms.Qemu;

/// <summary>
/// The embedded default platform behind the companion's port: a real Linux guest under QEMU TCG with
/// exactly the tables a Xen guest gets, the vNVDIMM backings as pc-dimms at the planned addresses, the
/// DSM mailbox in guest RAM backed by a shared file (hidden from the guest with memmap=), the doorbell as
/// QEMU's isa-debugcon forwarding to our socket, and QMP for hot-add. The guest is our child process.
/// </summary>
internal sealed class QemuBackend : ICompanionBackend
{
    private readonly QemuRunOptions _options;
    private readonly ILogger _logger;
    private readonly List<PlannedDevice> _bootDevices = [];
    private readonly Stack<IDisposable> _local = new();
    private string? _dir;
    private string? _ramFile;
    private string? _qmpSocket;
    private DoorbellSocket? _doorbellSocket;
    private Process? _harness;
    private QmpClient? _qmp;
    private bool _launched;

    /// <summary>A backend for the guest <paramref name="options"/> describes.</summary>
    public QemuBackend(QemuRunOptions options, ILoggerFactory logging)
    {
        _options = options;
        _logger = logging.CreateLogger("qemu");
    }

    /// <inheritdoc/>
    public string Name => "qemu";

    /// <inheritdoc/>
    public bool OutlivesCompanion => false;

    /// <inheritdoc/>
    public bool MapsFrames => false;

    /// <inheritdoc/>
    public string? PmemInterface => "pc-dimm";

    /// <inheritdoc/>
    public void Check(GuestLayout layout)
    {
        if (layout.MailboxGpa + MailboxProtocol.PageSize > _options.GuestMemory)
            throw new UserErrorException($"dsm_mailbox 0x{layout.MailboxGpa:x} is outside the qemu guest's {_options.GuestMemory >> 20} MiB of RAM");
        if (layout.Devices.Count > 8)
            throw new UserErrorException($"the qemu platform has 8 memory slots; {layout.Devices.Count} vnvdimms configured");
    }

    /// <inheritdoc/>
    public void Open(GuestLayout layout, IReadOnlyList<FrameRun> bootRuns, bool reattaching)
    {
        string dir = _options.RunDirectory ?? Directory.CreateTempSubdirectory("xen-vnvdimm-qemu-").FullName;
        if (_options.RunDirectory is null)
            _local.Push(new StageUndo(() => Directory.Delete(dir, recursive: true)));
        Directory.CreateDirectory(dir);
        _dir = dir;
        _qmpSocket = Path.Combine(dir, "qmp.sock");
        _ramFile = Path.Combine(dir, "guest-ram");
        using var f = new FileStream(_ramFile, FileMode.Create);
        f.SetLength((long)_options.GuestMemory);
    }

    /// <inheritdoc/>
    public IMailboxPage OpenMailbox(ulong gpa, bool adopt) =>
        new RamFileMailbox(new MailboxMapping(_ramFile!, gpa, MailboxProtocol.PageSize));

    /// <inheritdoc/>
    public async Task MapAsync(PlannedDevice d, IReadOnlyList<FrameRun> runs, CancellationToken cancel)
    {
        if (!_launched)
        {
            _bootDevices.Add(d); // on QEMU's command line at launch
            return;
        }
        try
        {
            await _qmp!.ExecuteAsync("object-add", cancel,
                $"{{\"qom-type\":\"memory-backend-file\",\"id\":\"xv{d.Slot}\",\"mem-path\":{System.Text.Json.JsonSerializer.Serialize(d.Backend)},\"size\":{d.Size},\"share\":true}}");
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
            throw new UserErrorException($"slot {d.Slot}: QEMU refused the memory device: {e.Message}");
        }
    }

    /// <inheritdoc/>
    public void Adopt(CompanionRecord previous, IReadOnlyList<FrameRun> runs) =>
        throw new UserErrorException("the qemu platform's guest ends with its companion: there is nothing to re-attach to");

    /// <inheritdoc/>
    public IDoorbell StartDoorbell(ushort port, Action ring, ushort? deadServer)
    {
        _doorbellSocket = new DoorbellSocket(Path.Combine(_dir!, "doorbell.sock"));
        return new SocketDoorbell(_doorbellSocket, ring);
    }

    /// <summary>No host→guest event path under QEMU: the guest re-reads _FIT when its nfit driver is re-bound.</summary>
    public void NotifyFitChanged(uint? eventIrq)
    {
    }

    /// <inheritdoc/>
    public async Task<Task<int>> LaunchAsync(GuestLayout layout, CancellationToken cancel)
    {
        var tables = GuestTables.Build(layout);
        string nfit = Path.Combine(_dir!, "NFIT.bin"), ssdt = Path.Combine(_dir!, "SSDT.aml");
        File.WriteAllBytes(nfit, tables.Nfit);
        File.WriteAllBytes(ssdt, tables.Ssdt);
        _harness = StartHarness(layout, nfit, ssdt);
        _launched = true;
        if (_options.Domid is not null)
        {
            // QEMU under TCG on a loaded host can take a while to open its QMP socket.
            _qmp = await QmpClient.ConnectAsync(_qmpSocket!, TimeSpan.FromSeconds(120), cancel);
        }
        return WaitForGuestAsync(_harness, cancel);
    }

    private static async Task<int> WaitForGuestAsync(Process harness, CancellationToken cancel)
    {
        await harness.WaitForExitAsync(cancel);
        return harness.ExitCode;
    }

    /// <inheritdoc/>
    public async Task StopGuestAsync()
    {
        if (_qmpSocket is null || _harness is null || _harness.HasExited)
            return;
        try
        {
            await using var qmp = await QmpClient.ConnectAsync(_qmpSocket, TimeSpan.FromSeconds(5), CancellationToken.None);
            await qmp.ExecuteAsync("quit", CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException or TimeoutException)
        {
            _logger.LogWarning("QMP quit failed: {Message}", e.Message);
        }
    }

    /// <inheritdoc/>
    public void RollBack()
    {
    }

    /// <inheritdoc/>
    public void Detach()
    {
    }

    /// <inheritdoc/>
    public void DomainGone()
    {
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_qmp is not null)
            _qmp.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _qmp = null;
        if (_harness is not null)
        {
            if (!_harness.HasExited)
                _harness.Kill(entireProcessTree: true);
            _harness.Dispose();
            _harness = null;
        }
        _doorbellSocket?.Dispose();
        _doorbellSocket = null;
        while (_local.Count > 0)
        {
            try { _local.Pop().Dispose(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { _logger.LogWarning("cleanup: {Message}", e.Message); }
        }
    }

    private Process StartHarness(GuestLayout layout, string nfit, string ssdt)
    {
        var psi = new ProcessStartInfo(_options.GuestRun) { UseShellExecute = false };
        void Add(params string[] a) { foreach (var s in a) psi.ArgumentList.Add(s); }
        void Qemu(params string[] a) { foreach (var s in a) Add("--qemu-arg", s); }

        Add("--mem", (_options.GuestMemory >> 20).ToString(CultureInfo.InvariantCulture) + "M", "--ram-file", _ramFile!);
        // Hide the mailbox page from the guest's memory manager.
        Add("--append", $"memmap=4K${"0x" + layout.MailboxGpa.ToString("x", CultureInfo.InvariantCulture)}");
        Add("--table", nfit, "--table", ssdt, "--timeout", _options.TimeoutSeconds.ToString(CultureInfo.InvariantCulture));
        foreach (var d in _bootDevices)
        {
            Qemu("-object", $"memory-backend-file,id=xv{d.Slot},share=on,mem-path={d.Backend},size={d.Size}",
                 "-device", $"pc-dimm,id=xvd{d.Slot},memdev=xv{d.Slot},addr=0x{d.Gpa:x}");
        }
        Qemu("-chardev", $"socket,id=xvdb,path={_doorbellSocket!.Path}",
             "-device", $"isa-debugcon,iobase=0x{layout.DoorbellPort:x},chardev=xvdb",
             "-qmp", $"unix:{_qmpSocket},server=on,wait=off");
        if (_options.ConsoleLog is not null)
            Add("--log", _options.ConsoleLog, "--quiet");
        if (_options.GuestScript is not null)
            Add("--script", _options.GuestScript);
        else
            Add("-c", "ndctl list -RDN");

        _logger.LogDebug("starting guest: {Harness} {Args}", psi.FileName, string.Join(' ', psi.ArgumentList));
        return Process.Start(psi) ?? throw new UserErrorException($"cannot start {psi.FileName}");
    }

    /// <summary>The mailbox page inside the guest's RAM file; firmware may clear it before the OS reserves it.</summary>
    private sealed class RamFileMailbox(MailboxMapping mapping) : IMailboxPage
    {
        public Span<byte> Bytes => mapping.Page;

        public bool MayBeCleared => true;

        public void Dispose() => mapping.Dispose();
    }

    /// <summary>The doorbell socket served until QEMU closes it or the doorbell is released.</summary>
    private sealed class SocketDoorbell : IDoorbell
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly TaskCompletionSource<string> _fault = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task _serve;

        public SocketDoorbell(DoorbellSocket socket, Action ring)
        {
            _serve = ServeAsync(socket, ring);
        }

        public ushort? ServerId => null;

        public Task<string> Fault => _fault.Task;

        private async Task ServeAsync(DoorbellSocket socket, Action ring)
        {
            try
            {
                await socket.ServeAsync(ring, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
            {
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            StageUndo.Quietly(_serve).GetAwaiter().GetResult();
            _stop.Dispose();
        }
    }
}
