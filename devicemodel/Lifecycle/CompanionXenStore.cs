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

    /// <summary>Connects to <paramref name="path"/>, or where libxenstore would ($XENSTORED_PATH, /run/xenstored/socket, …).</summary>
    public static async Task<CompanionXenStore> ConnectAsync(uint domid, ILogger logger, CancellationToken cancel, string? path = null)
    {
        XenStoreClient client;
        try
        {
            client = path is null
                ? await XenStoreClient.ConnectAsync(cancellationToken: cancel)
                : await XenStoreClient.ConnectAsync(path, cancellationToken: cancel);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or XenStoreConnectionException or InvalidOperationException)
        {
            throw new UserErrorException($"cannot connect to xenstore (set XENSTORED_PATH?): {e.Message}");
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

    private async Task HandleAsync(string text, IHotAddTarget target, CancellationToken cancel)
    {
        var cmd = HotAddCommand.Parse(text);
        if (cmd is null)
        {
            _logger.LogWarning("ignoring a command without a usable request id: '{Command}'", text);
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
            try
            {
                var spec = VnvdimmDeviceSpec.Parse(cmd.Argument, $"request {cmd.RequestId}");
                var device = await target.AddAsync(spec, cancel);
                await PublishDeviceAsync(device, "running", cancel);
                result = $"ok slot={device.Slot}";
            }
            catch (UserErrorException e)
            {
                result = $"error: {e.Message}";
            }
        }
        else if (cmd.Verb is "remove" or "rm" or "del" or "delete")
        {
            result = "error: removal is not supported: Linux's nfit driver accepts only a FIT that is a superset of the one it has (new NFIT entries can be added, never removed); destroy the guest to release the backing";
        }
        else
        {
            result = $"error: unknown command '{cmd.Verb}' (known: add)";
        }
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
