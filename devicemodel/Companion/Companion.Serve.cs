using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Platforms;
using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.XenStore;

namespace XenVnvdimm.DeviceModel.Companion;

// Serving, and the three ways it ends. Whatever goes wrong while serving — a bad command, a lost
// xenstored, a doorbell fault — is contained: answered, published, retried; the guest keeps its pmem.
internal sealed partial class Companion
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private async Task<int> ServeAsync(GuestLayout layout, CancellationToken cancel)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var signal = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; signal.TrySetResult("SIGTERM"); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; signal.TrySetResult("SIGINT"); });
        using var cancelled = cancel.Register(() => signal.TrySetResult("cancelled"));

        var guest = await _backend.LaunchAsync(layout, stop.Token);
        if (_xs is not null)
        {
            foreach (var d in layout.Devices)
                await _xs.PublishDeviceAsync(d, "running", cancel);
            await _xs.SetStateAsync("running", cancel);
        }
        Running.TrySetResult();
        _logger.LogInformation("serving {Who}: {Count} vNVDIMMs ({Devices})", Who, layout.Devices.Count,
            string.Join(", ", layout.Devices.Select(d => $"slot {d.Slot} {d.Backend} at 0x{d.Gpa:x}, {d.Size >> 20} MiB")));

        var released = _xs is null ? Task.Delay(Timeout.Infinite, stop.Token) : SuperviseXenStoreAsync(stop.Token);
        var faults = WatchDoorbellAsync(stop.Token);
        var keeper = _mailbox!.MayBeCleared ? KeepSignatureAsync(stop.Token) : Task.CompletedTask;
        var first = await Task.WhenAny(signal.Task, guest, released);
        Stopped = first == released && released.IsCompletedSuccessfully ? StopReason.DomainReleased
            : first == guest && guest.IsCompletedSuccessfully ? StopReason.GuestExited
            : StopReason.Signal;
        int status = 0;
        switch (Stopped)
        {
            case StopReason.DomainReleased:
                _logger.LogInformation("{Who} was released: tearing down", Who);
                _backend.DomainGone();
                break;
            case StopReason.GuestExited:
                status = await guest;
                _logger.LogInformation("{Who}: guest exited with status {Status}", Who, status);
                break;
            default:
                string why = signal.Task.IsCompleted ? signal.Task.Result : "released watch failed";
                if (_backend.OutlivesCompanion)
                {
                    _logger.LogInformation("{Who}: stopping on {Signal}: the guest keeps its pmem; a new run re-attaches", Who, why);
                }
                else
                {
                    _logger.LogWarning("{Who}: stopping on {Signal}: powering the guest off", Who, why);
                    await _backend.StopGuestAsync();
                    status = await WaitQuietly(guest);
                }
                break;
        }
        await stop.CancelAsync();
        await StageUndo.Quietly(released);
        await StageUndo.Quietly(faults);
        await StageUndo.Quietly(keeper);
        await StopAsync(Stopped.Value);
        if (_dsm is not null)
            _logger.LogInformation("DSM calls served: {Calls}; {Times}", _dsm.Statistics, _dsm.Statistics.ServiceTimes());
        return status;
    }

    private static async Task<int> WaitQuietly(Task<int> guest)
    {
        try { return await guest; }
        catch (OperationCanceledException) { return 0; }
    }

    /// <summary>The end of serving, by reason. Only a released domain loses its record and its nodes.</summary>
    private async Task StopAsync(StopReason reason)
    {
        if (reason == StopReason.Signal && _backend.OutlivesCompanion)
        {
            // Release the doorbell (a vCPU ringing it then gets QEMU's default answer instead of waiting on a
            // server nobody serves), keep frames, page, locks' successors, record; say so in xenstore.
            _doorbell?.Dispose();
            _doorbell = null;
            Record(CompanionRecord.Stopped, server: null);
            if (_state is not null)
                _state.Keep = true;
            _backend.Detach();
            if (_xs is not null)
                await _xs.TrySetStateAsync("stopped");
            return;
        }
        if (_xs is not null)
        {
            await _xs.TrySetStateAsync("stopping");
            // The record is gone with the domain, and nothing stale says "stopping" forever.
            await _xs.TryRemoveAsync();
        }
    }

    /// <summary>
    /// Serves hot-add commands and follows @releaseDomain; completes when the domain is released. A lost
    /// xenstored connection is re-established with backoff while the guest keeps its pmem.
    /// </summary>
    private async Task SuperviseXenStoreAsync(CancellationToken stop)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            var xs = _xs!;
            try
            {
                var commands = xs.ServeCommandsAsync(this, stop);
                var released = xs.WaitForReleaseAsync(stop);
                var done = await Task.WhenAny(commands, released);
                await done;
                if (done == released)
                    return;
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                // Whatever broke the conversation (a lost connection, a protocol error), the guest keeps its pmem.
                if (IsConnectionLoss(e))
                    _logger.LogWarning("{Who}: lost the xenstore connection ({Error}); the guest keeps its pmem; reconnecting", Who, e.Message);
                else
                    _logger.LogError("{Who}: xenstore failed ({Type}: {Error}); the guest keeps its pmem; reconnecting", Who, e.GetType().Name, e.Message);
            }
            await xs.DisposeAsync();
            while (true)
            {
                await Task.Delay(backoff, stop);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                try
                {
                    var next = await CompanionXenStore.ConnectAsync(_options.Domid!.Value, _logger, stop, _options.XenStorePath);
                    _xs = next;
                    await next.RepublishAsync(_layout!, stop);
                    _logger.LogInformation("{Who}: xenstore connection re-established; state=running again", Who);
                    backoff = TimeSpan.FromMilliseconds(100);
                    break;
                }
                catch (Exception e) when ((e is UserErrorException || IsConnectionLoss(e)) && !stop.IsCancellationRequested)
                {
                    _logger.LogDebug("{Who}: xenstore still unreachable: {Error}", Who, e.Message);
                }
            }
        }
    }

    private static bool IsConnectionLoss(Exception e) =>
        e is XenStoreConnectionException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException
        || (e is XenStoreException && e.InnerException is XenStoreConnectionException);

    /// <summary>
    /// Re-publishes the signature if guest firmware cleared the page before the kernel reserved it; a
    /// request in flight is never disturbed (the page is only rewritten when idle and unsigned).
    /// </summary>
    private async Task KeepSignatureAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(100, stop);
            lock (_pageLock)
            {
                var page = _mailbox!.Bytes;
                uint sig = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(page);
                uint state = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(page[Acpi.Ssdt.MailboxProtocol.StateOffset..]);
                if (sig != Acpi.Ssdt.MailboxProtocol.Signature && state == Acpi.Ssdt.MailboxProtocol.StateIdle)
                    _dsm!.Publish(page);
            }
        }
    }

    /// <summary>
    /// A doorbell that stopped serving by itself is published (state=error with the reason, and the fault
    /// count) and replaced by a new one, so every vCPU that rings is answered again.
    /// </summary>
    private async Task WatchDoorbellAsync(CancellationToken stop)
    {
        int faults = 0;
        while (!stop.IsCancellationRequested)
        {
            var doorbell = _doorbell;
            if (doorbell is null)
                return;
            string reason = await doorbell.Fault.WaitAsync(stop);
            faults++;
            _logger.LogError("{Who}: the doorbell stopped serving ({Reason}); restarting it (fault {Count})", Who, reason, faults);
            if (_xs is not null)
                await _xs.TryPublishFaultAsync(reason, faults);
            try
            {
                doorbell.Dispose();
                _doorbell = _backend.StartDoorbell(_layout!.DoorbellPort, Ring, deadServer: null);
                Record(CompanionRecord.Serving, _doorbell.ServerId);
                if (_xs is not null)
                    await _xs.TrySetStateAsync("running");
                _logger.LogInformation("{Who}: doorbell serving again", Who);
            }
            catch (Exception e) when (e is XenException or IOException or UserErrorException)
            {
                _logger.LogCritical("{Who}: the doorbell cannot be restarted: {Error}; the guest keeps its pmem, DSM calls stall", Who, e.Message);
                if (_xs is not null)
                    await _xs.TrySetStateAsync("error", $"doorbell: {reason}; restart failed: {e.Message}");
                return;
            }
        }
    }
}
