using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.XenStore.Client;

/// <summary>
/// One connection to xenstored: pipelined requests matched to replies by req_id, one reader loop,
/// watch events routed by token to per-watch channels. Any protocol violation by the server breaks
/// the connection and fails every pending and later call (as libxenstore closes its fd).
/// </summary>
internal sealed partial class XsConnection : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    // Everything below is guarded by _lock: the reply table, abandoned ids, watch routes, failure.
    private readonly Lock _lock = new();
    private readonly Dictionary<uint, Pending> _pending = [];
    private readonly HashSet<uint> _abandoned = [];
    private readonly Dictionary<string, ChannelWriter<XenStoreWatchEvent>> _watches = new(StringComparer.Ordinal);
    private uint _lastRequestId;
    private Exception? _failure;

    private readonly TaskCompletionSource _readerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Timer? _sweeper;
    private long _sweeperPeriod;

    private enum PendingState { Queued, Writing, Sent }

    private sealed class Pending(XsMessageType type, string what, TimeSpan timeout, long deadline)
    {
        public XsMessageType Type { get; } = type;
        public string What { get; } = what;
        public TimeSpan Timeout { get; } = timeout;
        public long Deadline { get; } = deadline;
        public volatile PendingState State;
        public long WriteStarted;
        public TaskCompletionSource<XsMessage> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public XsConnection(Stream stream, ILogger logger)
    {
        _stream = stream;
        _logger = logger;
        // A dedicated thread blocked in read() wakes straight from the kernel, one hop fewer per reply
        // than an async loop on the thread pool (libxenstore also reads on its own thread).
        new Thread(ReadLoop) { IsBackground = true, Name = "xenstore-reader" }.Start();
    }

    /// <summary>The reason the connection broke, or null while it works.</summary>
    public Exception? Failure
    {
        get { lock (_lock) return _failure; }
    }

    /// <summary>
    /// Sends one request and awaits its reply; ERROR replies become <see cref="XenStoreException"/>.
    /// The timeout bounds the whole call: waiting to send, sending, and the reply. A send that cannot
    /// finish in time (a server that stopped reading) breaks the connection, since a half-written
    /// frame leaves the stream out of step.
    /// </summary>
    public async Task<XsMessage> RequestAsync(XsMessageType type, uint transactionId, byte[] payload, string what,
                                              TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (payload.Length > XsLimits.PayloadMax)
            throw new XenStoreException(XenStoreErrno.E2BIG, $"{what}: request payload {payload.Length} exceeds {XsLimits.PayloadMax} bytes");
        cancellationToken.ThrowIfCancellationRequested();

        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        var pending = new Pending(type, what, timeout, deadline);
        uint requestId;
        lock (_lock)
        {
            ThrowIfBroken();
            do
                requestId = ++_lastRequestId;
            while (requestId == 0 || _pending.ContainsKey(requestId) || _abandoned.Contains(requestId));
            _pending.Add(requestId, pending);
            EnsureSweeper(timeout);
        }

        // Cancellation ends the wait; a reply that still comes is dropped (the id is remembered).
        using var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(_ => Abandon(requestId, pending, new OperationCanceledException($"{what}: cancelled", cancellationToken)), null)
            : default;

        var frame = new XsMessage(type, requestId, transactionId, payload).Encode();
        await _writeLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            // Expired or cancelled while waiting for the line: nothing was sent, nothing to undo.
            if (Environment.TickCount64 >= pending.Deadline)
                Abandon(requestId, pending, new TimeoutException($"{what}: could not be sent within {timeout.TotalSeconds:0.###} s"));
            if (!pending.Reply.Task.IsCompleted)
            {
                pending.WriteStarted = Environment.TickCount64;
                pending.State = PendingState.Writing;
                await _stream.WriteAsync(frame, CancellationToken.None).ConfigureAwait(false);
                pending.State = PendingState.Sent;
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            Fail(Failure ?? new XenStoreConnectionException($"sending {what} failed: {e.Message}", e));
        }
        finally
        {
            _writeLock.Release();
        }

        var message = await pending.Reply.Task.ConfigureAwait(false);
        if (message.Type == XsMessageType.Error)
        {
            var errno = XsErrors.FromWire(message.Payload.Span, out _);
            throw new XenStoreException(errno, what);
        }
        return message;
    }

    /// <summary>Routes events carrying <paramref name="token"/> to <paramref name="events"/>.</summary>
    public void AddWatchRoute(string token, ChannelWriter<XenStoreWatchEvent> events)
    {
        lock (_lock)
        {
            ThrowIfBroken();
            if (!_watches.TryAdd(token, events))
                throw new ArgumentException($"watch token '{token}' is already in use on this connection", nameof(token));
        }
    }

    /// <summary>Stops routing <paramref name="token"/>; late events for it are dropped.</summary>
    public void RemoveWatchRoute(string token)
    {
        lock (_lock)
        {
            if (_watches.Remove(token, out var writer))
                writer.TryComplete();
        }
    }

    private void ThrowIfBroken()
    {
        if (_failure is not null)
            throw _failure as XenStoreConnectionException ?? new XenStoreConnectionException("connection to xenstored is broken", _failure);
    }

    private void ReadLoop()
    {
        var header = new byte[XsHeader.Size];
        // Buffered: one recv usually brings a whole reply (often several), instead of one per header and payload.
        var input = new BufferedStream(_stream, 16384);
        try
        {
            while (true)
            {
                var message = XsFrameReader.Read(input, header);
                if (message is null)
                {
                    Fail(new XenStoreConnectionException("xenstored closed the connection"));
                    return;
                }
                Dispatch(message);
            }
        }
        catch (XenStoreProtocolException e)
        {
            Fail(new XenStoreConnectionException($"malformed message from xenstored: {e.Message}", e));
        }
        catch (Exception e)
        {
            Fail(new XenStoreConnectionException($"reading from xenstored failed: {e.Message}", e));
        }
        finally
        {
            _readerDone.TrySetResult();
        }
    }

    private void Dispatch(XsMessage message)
    {
        if (!XsMessageTypes.IsKnown(message.Type))
            throw new XenStoreProtocolException($"unknown message type {(uint)message.Type} (req_id {message.RequestId})");

        if (message.Type == XsMessageType.WatchEvent)
        {
            var parts = XsPayload.Split(message.Payload.Span, out var rest);
            if (parts.Count < 2 || rest is not null)
                throw new XenStoreProtocolException("watch event payload is not \"path\\0token\\0\"");
            lock (_lock)
            {
                // Unknown tokens happen legitimately right after an unwatch.
                if (_watches.TryGetValue(parts[1], out var writer))
                    writer.TryWrite(new XenStoreWatchEvent(parts[0], parts[1]));
            }
            return;
        }

        Pending? pending;
        lock (_lock)
        {
            if (!_pending.Remove(message.RequestId, out pending))
            {
                if (_abandoned.Remove(message.RequestId))
                    return;
                throw new XenStoreProtocolException($"unsolicited reply of type {message.Type} with req_id {message.RequestId}");
            }
        }
        if (message.Type != pending.Type && message.Type != XsMessageType.Error)
        {
            var mismatch = new XenStoreProtocolException($"reply of type {message.Type} to a {pending.Type} request (req_id {message.RequestId})");
            pending.Reply.TrySetException(new XenStoreConnectionException($"malformed message from xenstored: {mismatch.Message}", mismatch));
            throw mismatch;
        }
        pending.Reply.TrySetResult(message);
    }

    private void Fail(Exception reason)
    {
        List<Pending> pending;
        List<ChannelWriter<XenStoreWatchEvent>> watches;
        lock (_lock)
        {
            if (_failure is not null)
                return;
            _failure = reason;
            pending = [.. _pending.Values];
            _pending.Clear();
            watches = [.. _watches.Values];
            _watches.Clear();
        }
        _logger.LogDebug(reason, "xenstore connection broken");
        foreach (var p in pending)
            p.Reply.TrySetException(reason);
        foreach (var w in watches)
            w.TryComplete(reason);
        _stream.Dispose();
        lock (_lock)
            _sweeper?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        Fail(new XenStoreConnectionException("connection closed"));
        try
        {
            // Closing a socket wakes its reader; a read on /dev/xen/xenbus cannot be interrupted,
            // so that thread is left to end with the process rather than hang the caller.
            await _readerDone.Task.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _logger.LogDebug("xenstore reader thread still blocked after close");
        }
    }
}
