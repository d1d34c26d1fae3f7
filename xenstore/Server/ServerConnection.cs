using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.XenStore.Server;

/// <summary>
/// One client of the embedded xenstored: a reader loop that hands each request to the server,
/// and a writer loop draining this connection's outbox (replies and watch events, in order).
/// State fields are guarded by the server's lock.
/// </summary>
internal sealed class ServerConnection
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly ILogger _logger;
    private readonly long _maxQueued;
    private readonly Channel<byte[]> _outbox = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private long _queued;

    public ServerConnection(int id, Socket socket, ILogger logger, long maxQueuedBytes)
    {
        Id = id;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        // Non-blocking for the direct-send fast path in Send (called under the server lock, must never block).
        _socket.Blocking = false;
        _logger = logger;
        _maxQueued = maxQueuedBytes;
    }

    public int Id { get; }

    /// <summary>Socket clients act as dom0 until a <c>set-domid</c> control command says otherwise.</summary>
    public Caller Caller { get; set; } = Caller.Dom0;

    public List<ServerWatch> Watches { get; } = [];

    public Dictionary<uint, TransactionView> Transactions { get; } = [];

    private int _closed;

    public bool Closed => Volatile.Read(ref _closed) != 0;

    /// <summary>Reads and processes requests until the client leaves or misbehaves beyond repair.</summary>
    public async Task RunAsync(Action<ServerConnection, XsMessage> process, CancellationToken cancellationToken)
    {
        var writer = Task.Run(() => WriteLoopAsync(cancellationToken), CancellationToken.None);
        var header = new byte[XsHeader.Size];
        // Buffered: one recv usually brings a whole request (or a pipelined batch).
        var input = new BufferedStream(_stream, 16384);
        try
        {
            while (!Closed)
            {
                var message = await XsFrameReader.ReadAsync(input, header, cancellationToken).ConfigureAwait(false);
                if (message is null)
                    break;
                process(this, message);
            }
        }
        catch (XenStoreProtocolException e)
        {
            // An oversized or truncated message cannot be answered: the stream is out of step.
            _logger.LogInformation("connection {Id}: {Reason}; closing it", Id, e.Message);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            _logger.LogDebug("connection {Id}: {Reason}", Id, e.Message);
        }
        finally
        {
            // Let queued replies go out (a client may half-close after its last request), briefly.
            _outbox.Writer.TryComplete();
            await Task.WhenAny(writer, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None)).ConfigureAwait(false);
            Close();
            await writer.ConfigureAwait(false);
        }
    }

    /// <summary>Queues a message; a client that lets too much pile up is dropped. Called under the server lock.</summary>
    public void Send(XsMessage message)
    {
        if (Closed)
            return;
        var frame = message.Encode();
        // Fast path: with nothing queued or in flight (the writer subtracts bytes only once they are
        // on the wire), sending now keeps the order and saves a hop to the writer task.
        if (Interlocked.Read(ref _queued) == 0)
        {
            int sent;
            try
            {
                sent = _socket.Send(frame, SocketFlags.None, out var error);
                if (error is not (SocketError.Success or SocketError.WouldBlock))
                {
                    Close();
                    return;
                }
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            if (sent == frame.Length)
                return;
            frame = frame[Math.Max(sent, 0)..]; // the rest goes first through the writer
        }
        if (Interlocked.Add(ref _queued, frame.Length) > _maxQueued)
        {
            _logger.LogWarning("connection {Id}: more than {Max} bytes unread; dropping it", Id, _maxQueued);
            Close();
            return;
        }
        _outbox.Writer.TryWrite(frame);
    }

    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
            return;
        _outbox.Writer.TryComplete();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
        _socket.Dispose();
    }

    private async Task WriteLoopAsync(CancellationToken cancellationToken)
    {
        var batch = new MemoryStream();
        try
        {
            while (await _outbox.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                // Coalesce what is queued into one write: fewer syscalls under watch storms.
                batch.SetLength(0);
                while (batch.Length < 65536 && _outbox.Reader.TryRead(out var frame))
                    batch.Write(frame);
                await _stream.WriteAsync(batch.GetBuffer().AsMemory(0, (int)batch.Length), cancellationToken).ConfigureAwait(false);
                Interlocked.Add(ref _queued, -batch.Length);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            _logger.LogDebug("connection {Id}: write failed: {Reason}", Id, e.Message);
            Close();
        }
    }
}

/// <summary>A registered watch.</summary>
/// <param name="Path">Absolute (or special) watched path.</param>
/// <param name="Token">Client's token.</param>
/// <param name="RelativeBase">The caller's home when the watch was given relative; events then come back relative.</param>
internal sealed record ServerWatch(string Path, string Token, string? RelativeBase);
