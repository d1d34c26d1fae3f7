using System.Threading.Channels;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.XenStore.Client;

/// <summary>
/// A registered watch. Its events arrive in order on <see cref="Events"/>; the first one is the
/// registration event xenstored sends for the watched path itself. Disposing unregisters it.
/// When the connection breaks, the channel completes with the connection's exception.
/// </summary>
public sealed class XenStoreWatch : IAsyncDisposable
{
    private readonly XsConnection _connection;
    private readonly XenStoreClientOptions _options;
    private int _disposed;

    internal XenStoreWatch(XsConnection connection, XenStoreClientOptions options, string path, string token, ChannelReader<XenStoreWatchEvent> events)
    {
        _connection = connection;
        _options = options;
        Path = path;
        Token = token;
        Events = events;
    }

    /// <summary>The watched path (a node path or a special path such as <c>@releaseDomain</c>).</summary>
    public string Path { get; }

    /// <summary>The token identifying this watch on its connection.</summary>
    public string Token { get; }

    /// <summary>The events, in the order the server sent them.</summary>
    public ChannelReader<XenStoreWatchEvent> Events { get; }

    /// <summary>Waits for the next event whose path satisfies <paramref name="match"/>, skipping others.</summary>
    public async Task<XenStoreWatchEvent> WaitForAsync(Func<XenStoreWatchEvent, bool> match, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var e = await Events.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (match(e))
                return e;
        }
    }

    /// <summary>Sends UNWATCH and stops delivery; safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        try
        {
            if (_connection.Failure is null)
                await _connection.RequestAsync(XsMessageType.Unwatch, 0, XsPayload.Strings(Path, Token), $"unwatch {Path}",
                                               _options.RequestTimeout, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is XenStoreException or XenStoreConnectionException or TimeoutException)
        {
            // Nothing to undo: the watch is gone with the connection, or was never known to the server.
        }
        finally
        {
            _connection.RemoveWatchRoute(Token);
        }
    }
}
