using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.XenStore.Client;

/// <summary>
/// Asynchronous xenstore client over a Unix socket or /dev/xen/xenbus. Requests may be issued
/// concurrently (they are pipelined); watches deliver on channels; transactions retry on EAGAIN.
/// </summary>
public sealed class XenStoreClient : XenStoreOperations, IAsyncDisposable
{
    private long _nextToken;

    private XenStoreClient(XsConnection connection, XenStoreClientOptions options, string endpoint) : base(connection, options)
    {
        Endpoint = endpoint;
    }

    /// <summary>The socket or device this client is connected to.</summary>
    public string Endpoint { get; }

    /// <summary>Why the connection broke, or null while it is usable.</summary>
    public Exception? Failure => Connection.Failure;

    private protected override uint TransactionId => 0;

    /// <summary>
    /// Connects where libxenstore would: <c>$XENSTORED_PATH</c>, else /run/xenstored/socket,
    /// /var/run/xenstored/socket, /dev/xen/xenbus.
    /// </summary>
    public static Task<XenStoreClient> ConnectAsync(XenStoreClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        string? env = Environment.GetEnvironmentVariable(XenStoreEndpoint.EnvironmentVariable);
        string path = XenStoreEndpoint.Resolve(env, File.Exists)
                      ?? throw new XenStoreConnectionException(
                          $"no xenstored found (tried {string.Join(", ", XenStoreEndpoint.Candidates(env))})");
        return ConnectAsync(path, options, cancellationToken);
    }

    /// <summary>Connects to the socket or device at <paramref name="path"/>.</summary>
    public static async Task<XenStoreClient> ConnectAsync(string path, XenStoreClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new XenStoreClientOptions();
        var stream = await XsTransport.OpenAsync(path, cancellationToken).ConfigureAwait(false);
        var connection = new XsConnection(stream, options.LoggerFactory.CreateLogger<XenStoreClient>());
        return new XenStoreClient(connection, options, path);
    }

    /// <summary>Connects over an already open stream (a test harness, a pipe).</summary>
    public static XenStoreClient Connect(Stream stream, XenStoreClientOptions? options = null)
    {
        options ??= new XenStoreClientOptions();
        return new XenStoreClient(new XsConnection(stream, options.LoggerFactory.CreateLogger<XenStoreClient>()), options, "stream");
    }

    /// <summary>
    /// Registers a watch on <paramref name="path"/> (or <c>@introduceDomain</c>/<c>@releaseDomain</c>).
    /// The token defaults to a unique one; tokens must be unique per connection.
    /// </summary>
    public async Task<XenStoreWatch> WatchAsync(string path, string? token = null, CancellationToken cancellationToken = default)
    {
        token ??= "xvw" + Interlocked.Increment(ref _nextToken).ToString(CultureInfo.InvariantCulture);
        var channel = Channel.CreateUnbounded<XenStoreWatchEvent>(new UnboundedChannelOptions { SingleWriter = true });
        // Route before sending: the registration event may arrive right behind the reply.
        Connection.AddWatchRoute(token, channel.Writer);
        try
        {
            await SendAsync(XsMessageType.Watch, XsPayload.Strings(path, token), $"watch {path}", cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Connection.RemoveWatchRoute(token);
            throw;
        }
        return new XenStoreWatch(Connection, Options, path, token, channel.Reader);
    }

    /// <summary>Starts a transaction; prefer <see cref="TransactionAsync{T}"/>, which retries conflicts.</summary>
    public async Task<XenStoreTransaction> BeginTransactionAsync(CancellationToken cancellationToken = default)
    {
        var reply = await SendAsync(XsMessageType.TransactionStart, XsPayload.Strings(""), "transaction start", cancellationToken).ConfigureAwait(false);
        string text = XsPayload.TrimmedString(reply.Payload.Span);
        if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out uint id) || id == 0)
            throw new XenStoreException(XenStoreErrno.EIO, $"transaction start: bad transaction id '{text}'");
        return new XenStoreTransaction(Connection, Options, id);
    }

    /// <summary>
    /// Runs <paramref name="body"/> in a transaction and commits it; on EAGAIN (a conflicting
    /// writer) the body runs again, up to <see cref="XenStoreClientOptions.MaxTransactionAttempts"/>
    /// times. If the body throws, the transaction is aborted and the exception propagates.
    /// </summary>
    public async Task<T> TransactionAsync<T>(Func<XenStoreTransaction, CancellationToken, Task<T>> body, CancellationToken cancellationToken = default)
    {
        for (int attempt = 1; ; attempt++)
        {
            var tx = await BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            T result;
            try
            {
                result = await body(tx, cancellationToken).ConfigureAwait(false);
            }
            catch (XenStoreException e) when (e.Error == XenStoreErrno.EAGAIN && attempt < Options.MaxTransactionAttempts)
            {
                await tx.DisposeAsync().ConfigureAwait(false);
                continue;
            }
            catch
            {
                await tx.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            if (await tx.TryCommitAsync(cancellationToken).ConfigureAwait(false))
                return result;
            if (attempt >= Options.MaxTransactionAttempts)
                throw new XenStoreException(XenStoreErrno.EAGAIN, $"transaction conflicted {attempt} times");
        }
    }

    /// <summary>As <see cref="TransactionAsync{T}"/> for a body without a result.</summary>
    public Task TransactionAsync(Func<XenStoreTransaction, CancellationToken, Task> body, CancellationToken cancellationToken = default) =>
        TransactionAsync<bool>(async (tx, ct) => { await body(tx, ct).ConfigureAwait(false); return true; }, cancellationToken);

    /// <summary>The home path of a domain (<c>/local/domain/&lt;domid&gt;</c>).</summary>
    public async Task<string> GetDomainPathAsync(uint domainId, CancellationToken cancellationToken = default)
    {
        var reply = await SendAsync(XsMessageType.GetDomainPath, XsPayload.Strings(domainId.ToString(CultureInfo.InvariantCulture)),
                                    $"get-domain-path {domainId}", cancellationToken).ConfigureAwait(false);
        return XsPayload.TrimmedString(reply.Payload.Span);
    }

    /// <summary>True while xenstored is in contact with the domain (introduced, not yet released).</summary>
    public async Task<bool> IsDomainIntroducedAsync(uint domainId, CancellationToken cancellationToken = default)
    {
        var reply = await SendAsync(XsMessageType.IsDomainIntroduced, XsPayload.Strings(domainId.ToString(CultureInfo.InvariantCulture)),
                                    $"is-domain-introduced {domainId}", cancellationToken).ConfigureAwait(false);
        return XsPayload.TrimmedString(reply.Payload.Span) != "F";
    }

    /// <summary>Drops every watch and transaction of this connection on the server.</summary>
    public Task ResetWatchesAsync(CancellationToken cancellationToken = default) =>
        SendAsync(XsMessageType.ResetWatches, XsPayload.Strings(""), "reset-watches", cancellationToken);

    /// <summary>Sends a CONTROL command with string arguments; returns the reply text.</summary>
    public async Task<string> ControlAsync(string command, IReadOnlyList<string> arguments, CancellationToken cancellationToken = default)
    {
        var reply = await SendAsync(XsMessageType.Control, XsPayload.Strings([command, .. arguments]), $"control {command}", cancellationToken).ConfigureAwait(false);
        return XsPayload.TrimmedString(reply.Payload.Span);
    }

    /// <summary>Closes the connection; pending calls fail with <see cref="XenStoreConnectionException"/>.</summary>
    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}
