using System.Buffers.Binary;
using System.Net.Sockets;

namespace XenVnvdimm.Tests.Support;

/// <summary>
/// A scripted, misbehaving xenstored: accepts one client, and for every request it reads calls
/// the script with (type, req_id, payload) to decide what bytes to send back (or to close).
/// </summary>
public sealed class FakeServer : IAsyncDisposable
{
    private readonly TempSocket _path = new();
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly Task _loop;
    private Socket? _peer;

    /// <summary>Bytes to send back, and whether to close the connection after them.</summary>
    public sealed record Reply(byte[] Bytes, bool CloseAfter = false)
    {
        public static implicit operator Reply(byte[] bytes) => new(bytes);
    }

    /// <summary>Returns what to send; null closes the connection without a word.</summary>
    public delegate Reply? Script(uint type, uint reqId, uint txId, byte[] payload);

    public FakeServer(Script script)
    {
        _listener.Bind(new UnixDomainSocketEndPoint(_path.Path));
        _listener.Listen(1);
        _loop = Task.Run(() => Serve(script));
    }

    public string SocketPath => _path.Path;

    public int Requests { get; private set; }

    public void SendRaw(byte[] bytes) => _peer!.Send(bytes);

    private async Task Serve(Script script)
    {
        try
        {
            _peer = await _listener.AcceptAsync();
            var header = new byte[16];
            while (true)
            {
                if (!await ReadExactly(_peer, header))
                    return;
                var payload = new byte[BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12))];
                if (!await ReadExactly(_peer, payload))
                    return;
                Requests++;
                var reply = script(BinaryPrimitives.ReadUInt32LittleEndian(header), BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4)),
                                   BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8)), payload);
                if (reply is null)
                {
                    _peer.Shutdown(SocketShutdown.Both);
                    _peer.Close();
                    return;
                }
                if (reply.Bytes.Length > 0)
                    await _peer.SendAsync(reply.Bytes);
                if (reply.CloseAfter)
                {
                    _peer.Shutdown(SocketShutdown.Both);
                    return;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    private static async Task<bool> ReadExactly(Socket s, byte[] buffer)
    {
        int at = 0;
        while (at < buffer.Length)
        {
            int n = await s.ReceiveAsync(buffer.AsMemory(at));
            if (n == 0)
                return false;
            at += n;
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _peer?.Dispose();
        _listener.Dispose();
        await _loop;
        _path.Dispose();
    }
}
