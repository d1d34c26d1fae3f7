using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace XenVnvdimm.DeviceModel.Platforms.Xen.Qmp;

/// <summary>
/// One QMP connection through the guard: the toolstack's bytes (and descriptors) go to QEMU object
/// by object, QEMU's bytes come back untouched; when <see cref="_refusal"/> is set (the peer is a
/// live migration), a request for QEMU's dirty log is answered here with that error instead.
/// Either side closing ends both.
/// </summary>
internal sealed class QmpRelay
{
    private readonly Socket _client;
    private readonly Socket _qemu;
    private readonly string? _refusal;
    private readonly ILogger _logger;
    private readonly Lock _clientWrite = new();
    private int _closed;

    public QmpRelay(Socket client, Socket qemu, string? refusal, ILogger logger)
    {
        _client = client;
        _qemu = qemu;
        _refusal = refusal;
        _logger = logger;
    }

    /// <summary>Raised once per refused command (tests and the log count them).</summary>
    public event Action? Refused;

    /// <summary>Starts both directions on their own threads.</summary>
    public void Start()
    {
        new Thread(ToQemu) { IsBackground = true, Name = "qmp-guard to qemu" }.Start();
        new Thread(ToClient) { IsBackground = true, Name = "qmp-guard to client" }.Start();
    }

    private void ToQemu()
    {
        var splitter = new QmpObjectSplitter();
        var fds = new List<int>();
        var buffer = new byte[64 * 1024];
        // Raw descriptors outlive a Dispose on the other thread until released: never a reused number.
        bool clientRef = false, qemuRef = false;
        try
        {
            _client.SafeHandle.DangerousAddRef(ref clientRef);
            _qemu.SafeHandle.DangerousAddRef(ref qemuRef);
            int clientFd = (int)_client.SafeHandle.DangerousGetHandle();
            int qemuFd = (int)_qemu.SafeHandle.DangerousGetHandle();
            while (true)
            {
                int n = UnixSocketInterop.Receive(clientFd, buffer, fds);
                if (n == 0)
                    break;
                foreach (var (bytes, isObject) in splitter.Push(buffer.AsSpan(0, n)))
                {
                    if (isObject && _refusal is not null && MigrationRefusal.IsDirtyLogEnable(bytes, out string? id))
                    {
                        CloseAll(fds);
                        _logger.LogWarning("migration: {Reason}", _refusal);
                        Refused?.Invoke();
                        lock (_clientWrite)
                            UnixSocketInterop.Send(clientFd, MigrationRefusal.ErrorReply(id, _refusal), []);
                        continue;
                    }
                    UnixSocketInterop.Send(qemuFd, bytes, fds);
                    CloseAll(fds);
                }
            }
            byte[] rest = splitter.TakeRest();
            if (rest.Length > 0 || fds.Count > 0)
                UnixSocketInterop.Send(qemuFd, rest, fds);
            _qemu.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            _logger.LogDebug("qmp guard: toolstack side ended: {Message}", e.Message);
            Close();
        }
        finally
        {
            CloseAll(fds);
            if (clientRef)
                _client.SafeHandle.DangerousRelease();
            if (qemuRef)
                _qemu.SafeHandle.DangerousRelease();
        }
    }

    private void ToClient()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int n = _qemu.Receive(buffer);
                if (n == 0)
                    break;
                lock (_clientWrite)
                    _client.Send(buffer.AsSpan(0, n));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            _logger.LogDebug("qmp guard: QEMU side ended: {Message}", e.Message);
        }
        Close();
    }

    private void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
            return;
        foreach (var s in new[] { _client, _qemu })
        {
            try
            {
                s.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // already gone
            }
            s.Dispose();
        }
    }

    private static void CloseAll(List<int> fds)
    {
        foreach (int fd in fds)
            Tmds.Linux.LibC.close(fd);
        fds.Clear();
    }
}
