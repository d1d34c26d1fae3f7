using System.Net.Sockets;

namespace XenVnvdimm.DeviceModel.Platforms.Qemu;

/// <summary>
/// The qemu platform's doorbell: QEMU's <c>isa-debugcon</c> at the doorbell port forwards every
/// byte the guest writes there to a chardev socket; we are the socket's server. Each byte is one
/// ring of the doorbell.
/// </summary>
internal sealed class DoorbellSocket : IDisposable
{
    private readonly Socket _listener;

    public DoorbellSocket(string path)
    {
        Path = path;
        File.Delete(path);
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(1);
    }

    public string Path { get; }

    /// <summary>Accepts QEMU's connection and calls <paramref name="ring"/> once per byte until it closes.</summary>
    public async Task ServeAsync(Action ring, CancellationToken cancel)
    {
        using var conn = await _listener.AcceptAsync(cancel);
        var buffer = new byte[256];
        while (true)
        {
            int n = await conn.ReceiveAsync(buffer, SocketFlags.None, cancel);
            if (n == 0)
                return;
            // Rings that arrive together are served by one pass: the page holds one request.
            ring();
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        File.Delete(Path);
    }
}
