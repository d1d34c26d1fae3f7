using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.XenStore.Server;

/// <summary>
/// An embedded xenstored serving the xenstore protocol on a Unix socket, for machines without Xen:
/// a node tree with per-node permissions, watches, transactions with conflict detection, quotas,
/// and the special watches @introduceDomain/@releaseDomain. Socket clients act as dom0.
/// </summary>
public sealed class XenStoreServer : IAsyncDisposable
{
    private readonly ServerState _state;
    private readonly RequestProcessor _processor;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connectionTasks = [];
    private Socket? _listener;
    private Task? _acceptLoop;
    private int _nextConnectionId;

    /// <summary>Creates a server; call <see cref="Start"/> to listen.</summary>
    public XenStoreServer(XenStoreServerOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<XenStoreServer>();
        _state = new ServerState(options ?? new XenStoreServerOptions(), _logger);
        _processor = new RequestProcessor(_state);
    }

    /// <summary>The socket path once started.</summary>
    public string? SocketPath { get; private set; }

    /// <summary>Number of connected clients.</summary>
    public int ConnectionCount
    {
        get { lock (_state.Gate) return _state.Connections.Count; }
    }

    /// <summary>Number of nodes in the tree.</summary>
    public int NodeCount
    {
        get { lock (_state.Gate) return _state.Tree.Count; }
    }

    /// <summary>
    /// Binds and listens on <paramref name="socketPath"/>. A stale socket file is replaced;
    /// one with a live server behind it is an error.
    /// </summary>
    /// <exception cref="IOException">The path is in use or cannot be bound.</exception>
    public void Start(string socketPath)
    {
        if (_listener is not null)
            throw new InvalidOperationException("server already started");
        if (File.Exists(socketPath))
        {
            if (IsLive(socketPath))
                throw new IOException($"{socketPath}: another xenstored is listening there");
            File.Delete(socketPath);
        }
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(socketPath));
            listener.Listen(128);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new IOException($"{socketPath}: cannot listen: {e.Message}", e);
        }
        _listener = listener;
        SocketPath = socketPath;
        _acceptLoop = Task.Run(AcceptLoopAsync);
        _logger.LogInformation("xenstored listening on {Path}", socketPath);
    }

    private static bool IsLive(string socketPath)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // EMFILE and friends: back off instead of spinning, keep serving the others.
                _logger.LogWarning("accept failed: {Reason}", e.Message);
                await Task.Delay(100).ConfigureAwait(false);
                continue;
            }
            var connection = new ServerConnection(Interlocked.Increment(ref _nextConnectionId), socket, _logger, _state.Options.MaxQueuedOutputBytes);
            lock (_state.Gate)
            {
                _state.Connections.Add(connection);
                _connectionTasks.RemoveAll(t => t.IsCompleted);
                _connectionTasks.Add(Task.Run(() => ServeAsync(connection)));
            }
        }
    }

    private async Task ServeAsync(ServerConnection connection)
    {
        _logger.LogDebug("connection {Id} opened", connection.Id);
        try
        {
            await connection.RunAsync(Process, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "connection {Id} failed", connection.Id);
            connection.Close();
        }
        finally
        {
            lock (_state.Gate)
                _state.Remove(connection);
            _logger.LogDebug("connection {Id} closed", connection.Id);
        }
    }

    private void Process(ServerConnection connection, XsMessage request)
    {
        lock (_state.Gate)
        {
            if (!connection.Closed)
                _processor.Process(connection, request);
        }
    }

    /// <summary>Simulates a domain coming up: marks it introduced and fires @introduceDomain.</summary>
    public void IntroduceDomain(ushort domainId)
    {
        lock (_state.Gate)
            _state.Introduce(domainId);
    }

    /// <summary>Simulates a domain's death: forgets it and fires @releaseDomain. False if it was unknown.</summary>
    public bool ReleaseDomain(ushort domainId)
    {
        lock (_state.Gate)
            return _state.Release(domainId);
    }

    /// <summary>Writes the whole tree as text (see the dump file format of <c>xen-vnvdimm xenstored</c>).</summary>
    public void Dump(TextWriter output)
    {
        lock (_state.Gate)
            TreeDump.Write(_state.Tree, output);
    }

    /// <summary>Writes the tree to a file atomically.</summary>
    public void DumpToFile(string path)
    {
        lock (_state.Gate)
            TreeDump.WriteFile(_state.Tree, path);
    }

    /// <summary>Stops listening, closes every connection and removes the socket file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
            return;
        _stop.Cancel();
        _listener?.Dispose();
        if (_acceptLoop is not null)
            await _acceptLoop.ConfigureAwait(false);
        Task[] tasks;
        lock (_state.Gate)
        {
            foreach (var c in _state.Connections)
                c.Close();
            tasks = [.. _connectionTasks];
        }
        await Task.WhenAll(tasks).ConfigureAwait(false);
        if (SocketPath is not null)
        {
            try
            {
                File.Delete(SocketPath);
            }
            catch (IOException)
            {
                // Someone else's now.
            }
        }
        _stop.Dispose();
    }
}
