using System.Globalization;
using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.XenStore;
using XenVnvdimm.XenStore.Client;

namespace XenVnvdimm.DeviceModel.Lifecycle;

/// <summary>
/// The companion's life in xenstore: publishes its state and devices under
/// <see cref="XenStoreLayout.Base"/>, serves hot-add commands from the command node, and
/// reports when the domain is released.
/// </summary>
public sealed class CompanionXenStore : IAsyncDisposable
{
    private readonly XenStoreClient _client;
    private readonly uint _domid;
    private readonly ILogger _logger;

    private CompanionXenStore(XenStoreClient client, uint domid, ILogger logger)
    {
        _client = client;
        _domid = domid;
        _logger = logger;
    }

    /// <summary>Connects to <paramref name="path"/> (the CLI resolves it as libxenstore would: $XENSTORED_PATH, /run/xenstored/socket, …).</summary>
    public static async Task<CompanionXenStore> ConnectAsync(uint domid, ILogger logger, CancellationToken cancel, string? path)
    {
        if (path is null)
            throw new UserErrorException("no xenstored found (tried $XENSTORED_PATH, /run/xenstored/socket, /var/run/xenstored/socket, /dev/xen/xenbus)");
        XenStoreClient client;
        try
        {
            client = await XenStoreClient.ConnectAsync(path, cancellationToken: cancel);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or XenStoreConnectionException or InvalidOperationException)
        {
            throw new UserErrorException($"cannot connect to xenstore at {path} (set XENSTORED_PATH?): {e.Message}");
        }
        return new CompanionXenStore(client, domid, logger);
    }

    /// <summary>Over an already connected client (tests that watch the wire); the result owns it.</summary>
    internal static CompanionXenStore Over(XenStoreClient client, uint domid, ILogger logger) => new(client, domid, logger);

    /// <summary>Writes state=starting and our pid; creates the command node afresh, readable and writable only by dom0.</summary>
    public async Task StartingAsync(CancellationToken cancel)
    {
        string b = XenStoreLayout.Base(_domid);
        await _client.WriteAsync($"{b}/state", "starting", cancel);
        await _client.WriteAsync($"{b}/pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancel);
        await _client.RemoveAsync($"{b}/error", cancel); // a failed earlier start's reason is not ours
        await CreateCommandNodeAsync(cancel);
    }

    /// <summary>
    /// Re-attach: writes state=starting and our pid, and keeps the command node as it is. A command
    /// the dead companion never answered is served once the watch starts; the node's permissions are
    /// left alone so a node someone opened to the guest is still refused, not silently repaired.
    /// A missing node is created dom0-only.
    /// </summary>
    public async Task ReattachingAsync(CancellationToken cancel)
    {
        string b = XenStoreLayout.Base(_domid);
        await _client.WriteAsync($"{b}/state", "starting", cancel);
        await _client.WriteAsync($"{b}/pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancel);
        await _client.RemoveAsync($"{b}/error", cancel);
        if (!await _client.ExistsAsync(XenStoreLayout.Command(_domid), cancel))
            await CreateCommandNodeAsync(cancel);
        else if (CommandNodeGuard.Check(await _client.GetPermissionsAsync(XenStoreLayout.Command(_domid), cancel)) is string refusal)
            _logger.LogWarning("re-attach: {Refusal}; every command will be refused until it is", refusal);
    }

    /// <summary>
    /// Creates the command node empty and dom0-only in one transaction, replacing whatever was there
    /// (stale content, children, access-list entries): a node written first and restricted after
    /// would exist for a moment with the permissions it inherits from its parent.
    /// </summary>
    private Task CreateCommandNodeAsync(CancellationToken cancel) =>
        _client.TransactionAsync(async (t, c) =>
        {
            string node = XenStoreLayout.Command(_domid);
            await t.RemoveAsync(node, c);
            await t.WriteAsync(node, "", c);
            await t.SetPermissionsAsync(node, CommandNodeGuard.Required, c);
        }, cancel);

    /// <summary>Publishes one device's node.</summary>
    public async Task PublishDeviceAsync(PlannedDevice d, string state, CancellationToken cancel)
    {
        string p = XenStoreLayout.Device(_domid, d.Slot);
        await _client.TransactionAsync(async (t, c) =>
        {
            await t.WriteAsync($"{p}/backend", d.Backend, c);
            await t.WriteAsync($"{p}/gpa", $"0x{d.Gpa:x}", c);
            await t.WriteAsync($"{p}/size", d.Size.ToString(CultureInfo.InvariantCulture), c);
            await t.WriteAsync($"{p}/serial", $"0x{d.Serial:x8}", c);
            await t.WriteAsync($"{p}/state", state, c);
        }, cancel);
    }

    /// <summary>Sets <c>state</c>: starting → running → stopping, or <c>error</c> with a reason.</summary>
    public Task SetStateAsync(string state, CancellationToken cancel, string? reason = null) =>
        reason is null
            ? _client.WriteAsync($"{XenStoreLayout.Base(_domid)}/state", state, cancel)
            : _client.TransactionAsync(async (t, c) =>
            {
                await t.WriteAsync($"{XenStoreLayout.Base(_domid)}/state", state, c);
                await t.WriteAsync($"{XenStoreLayout.Base(_domid)}/error", reason, c);
            }, cancel);

    /// <summary>
    /// Serves hot-add commands until cancelled. Every command gets a result node for its request
    /// id; a request id that already has a result is not executed again.
    /// </summary>
    public async Task ServeCommandsAsync(IHotAddTarget target, CancellationToken cancel)
    {
        await using var watch = await _client.WatchAsync(XenStoreLayout.Command(_domid), cancellationToken: cancel);
        while (true)
        {
            await watch.Events.ReadAsync(cancel); // the first event is the watch's own registration
            string text = await _client.TryReadStringAsync(XenStoreLayout.Command(_domid), cancel) ?? "";
            if (text.Trim().Length == 0)
                continue;
            await HandleAsync(text, target, cancel);
        }
    }

    /// <summary>
    /// Handles one command and answers it, whatever goes wrong: an exception other than a lost connection
    /// or cancellation becomes an <c>error:</c> result, never the end of serving.
    /// </summary>
    private async Task HandleAsync(string text, IHotAddTarget target, CancellationToken cancel)
    {
        try
        {
            await HandleOnceAsync(text, target, cancel);
        }
        catch (XenStoreException e) when (e.InnerException is not XenStoreConnectionException)
        {
            // xenstored refused a write of ours (a quota, a too-long path): the command is dropped, we serve on.
            _logger.LogWarning("command '{Command}': xenstore refused the answer: {Error}", Cut(text, 200), e.Message);
            await TryClearCommandAsync(text, cancel);
        }
    }

    private async Task TryClearCommandAsync(string handled, CancellationToken cancel)
    {
        try
        {
            await ClearCommandAsync(handled, cancel);
        }
        catch (XenStoreException e) when (e.InnerException is not XenStoreConnectionException)
        {
            _logger.LogWarning("could not clear the command node: {Error}", e.Message);
        }
    }

    private async Task HandleOnceAsync(string text, IHotAddTarget target, CancellationToken cancel)
    {
        var cmd = HotAddCommand.Parse(text);
        if (cmd is null)
        {
            // Its writer cannot find an answer at result/<id>: it gets one at the fixed result/@invalid.
            string invalid = XenStoreLayout.InvalidIdResult(_domid);
            string answer = Cut($"error: no usable request id (1-64 of A-Z a-z 0-9 - _) in '{Cut(text, 200)}'",
                XenVnvdimm.XenStore.Wire.XsLimits.PayloadMax - System.Text.Encoding.UTF8.GetByteCount(invalid) - 1 - 16);
            await _client.WriteAsync(invalid, answer, cancel);
            _logger.LogWarning("{Answer}", answer);
            await ClearCommandAsync(text, cancel);
            return;
        }
        string resultPath = XenStoreLayout.Result(_domid, cmd.RequestId);
        if (await _client.ExistsAsync(resultPath, cancel))
        {
            _logger.LogInformation("request {Id} already answered; not repeating it", cmd.RequestId);
            await ClearCommandAsync(text, cancel);
            return;
        }

        string result;
        if (CommandNodeGuard.Check(await _client.GetPermissionsAsync(XenStoreLayout.Command(_domid), cancel)) is string refusal)
        {
            result = $"error: {refusal}";
        }
        else if (cmd.Verb == "add")
        {
            PlannedDevice? device = null;
            try
            {
                var spec = VnvdimmDeviceSpec.Parse(cmd.Argument, $"request {cmd.RequestId}");
                device = await target.AddAsync(spec, cancel);
                result = $"ok slot={device.Slot}";
            }
            catch (UserErrorException e)
            {
                result = $"error: {e.Message}";
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The target contains its own failures; this is the last line, so a bug answers instead of stopping us.
                result = $"error: internal error ({e.GetType().Name}): {e.Message}";
            }
            if (device is not null)
                await PublishDeviceAsync(device, "running", cancel);
        }
        else if (cmd.Verb is "remove" or "rm" or "del" or "delete")
        {
            result = "error: removal is not supported: Linux's nfit driver accepts only a FIT that is a superset of the one it has (new NFIT entries can be added, never removed); destroy the guest to release the backing";
        }
        else
        {
            result = $"error: unknown command '{cmd.Verb}' (known: add)";
        }
        // xenstore carries at most 4096 payload bytes (path, NUL, value): cut the answer to fit.
        result = Cut(result, XenVnvdimm.XenStore.Wire.XsLimits.PayloadMax - System.Text.Encoding.UTF8.GetByteCount(resultPath) - 1 - 16);
        await _client.WriteAsync(resultPath, result, cancel);
        _logger.LogInformation("request {Id}: {Result}", cmd.RequestId, result);
        await ClearCommandAsync(text, cancel);
    }

    /// <summary>Empties the command node if it still holds the command just handled, so the next client may write.</summary>
    private Task ClearCommandAsync(string handled, CancellationToken cancel) =>
        _client.TransactionAsync(async (t, c) =>
        {
            if (await t.TryReadStringAsync(XenStoreLayout.Command(_domid), c) == handled)
                await t.WriteAsync(XenStoreLayout.Command(_domid), "", c);
        }, cancel);

    /// <summary>At most <paramref name="max"/> UTF-8 bytes of <paramref name="text"/>, marked when cut.</summary>
    internal static string Cut(string text, int max)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(text) <= max)
            return text;
        const string more = " [...]";
        var sb = new System.Text.StringBuilder();
        int bytes = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (bytes + rune.Utf8SequenceLength > max - more.Length)
                break;
            sb.Append(rune.ToString());
            bytes += rune.Utf8SequenceLength;
        }
        return sb.Append(more).ToString();
    }

    /// <summary>Sets the state (and reason) without throwing: used where serving is already ending or failing.</summary>
    public async Task TrySetStateAsync(string state, string? reason = null)
    {
        try
        {
            await SetStateAsync(state, CancellationToken.None, reason is null ? null : Cut(reason, 3000));
        }
        catch (Exception e) when (e is XenStoreException or XenStoreConnectionException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            _logger.LogWarning("could not publish state={State} in xenstore: {Error}", state, e.Message);
        }
    }

    /// <summary>Publishes a doorbell fault: state=error, its reason, and how many faults so far.</summary>
    public async Task TryPublishFaultAsync(string reason, int count)
    {
        await TrySetStateAsync("error", $"doorbell fault: {reason}");
        try
        {
            await _client.WriteAsync($"{XenStoreLayout.Base(_domid)}/faults", count.ToString(CultureInfo.InvariantCulture), CancellationToken.None);
        }
        catch (Exception e) when (e is XenStoreException or XenStoreConnectionException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            _logger.LogWarning("could not publish the fault count: {Error}", e.Message);
        }
    }

    /// <summary>
    /// After a reconnect: state, pid and devices again, and a dom0-only command node if xenstored lost it
    /// (a restarted xenstored starts empty).
    /// </summary>
    public async Task RepublishAsync(GuestLayout layout, CancellationToken cancel)
    {
        string b = XenStoreLayout.Base(_domid);
        await _client.WriteAsync($"{b}/pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancel);
        if (!await _client.ExistsAsync(XenStoreLayout.Command(_domid), cancel))
            await CreateCommandNodeAsync(cancel);
        foreach (var d in layout.Devices)
            await PublishDeviceAsync(d, "running", cancel);
        await _client.WriteAsync($"{b}/state", "running", cancel);
    }

    /// <summary>Removes the companion's subtree without throwing (the domain is gone).</summary>
    public async Task TryRemoveAsync()
    {
        try
        {
            await RemoveAsync(CancellationToken.None);
            _logger.LogInformation("removed {Path} from xenstore", XenStoreLayout.Base(_domid));
        }
        catch (Exception e) when (e is XenStoreException or XenStoreConnectionException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            _logger.LogWarning("could not remove {Path} from xenstore: {Error}", XenStoreLayout.Base(_domid), e.Message);
        }
    }

    /// <summary>Completes when the domain, if it was introduced, is released (@releaseDomain).</summary>
    public async Task WaitForReleaseAsync(CancellationToken cancel)
    {
        if (!await _client.IsDomainIntroducedAsync(_domid, cancel))
        {
            _logger.LogDebug("domain {Domid} is not introduced to xenstore; not following @releaseDomain", _domid);
            await Task.Delay(Timeout.Infinite, cancel);
        }
        await using var watch = await _client.WatchAsync("@releaseDomain", cancellationToken: cancel);
        while (true)
        {
            await watch.Events.ReadAsync(cancel);
            if (!await _client.IsDomainIntroducedAsync(_domid, cancel))
                return;
        }
    }

    /// <summary>
    /// Removes the companion's own subtree (on clean exit, after state=stopping was published and every
    /// stage undone): a later companion for the domain starts from nothing, and nothing stale says
    /// "stopping" forever. The parent <c>device-model/&lt;domid&gt;</c> belongs to libxl, which removes
    /// it when it destroys the domain.
    /// </summary>
    public Task RemoveAsync(CancellationToken cancel) => _client.RemoveAsync(XenStoreLayout.Base(_domid), cancel);

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _client.DisposeAsync();
}
