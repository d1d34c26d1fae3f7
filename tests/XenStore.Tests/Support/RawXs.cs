using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace XenVnvdimm.Tests.Support;

/// <summary>
/// A bare xenstore socket for tests that must send what our client never would. Frames are built
/// by hand here (little-endian u32 type, req_id, tx_id, len), independently of the library's codec.
/// </summary>
public sealed class RawXs : IDisposable
{
    private readonly Socket _socket;

    private RawXs(Socket socket) => _socket = socket;

    public static RawXs Connect(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(path));
        s.ReceiveTimeout = 10_000;
        return new RawXs(s);
    }

    public static byte[] Frame(uint type, uint reqId, uint txId, byte[] payload, uint? lengthOverride = null)
    {
        var f = new byte[16 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(f, type);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(4), reqId);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(8), txId);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(12), lengthOverride ?? (uint)payload.Length);
        payload.CopyTo(f, 16);
        return f;
    }

    public static byte[] Z(params string[] parts) => Encoding.ASCII.GetBytes(string.Concat(parts.Select(p => p + "\0")));

    public void Send(byte[] bytes) => _socket.Send(bytes);

    public void Send(uint type, uint reqId, byte[] payload, uint txId = 0) => Send(Frame(type, reqId, txId, payload));

    /// <summary>Reads one message; null if the server closed the connection.</summary>
    public (uint Type, uint ReqId, uint TxId, string Payload)? Receive()
    {
        var header = new byte[16];
        if (!ReadExactly(header))
            return null;
        uint len = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12));
        var body = new byte[len];
        if (!ReadExactly(body))
            return null;
        return (BinaryPrimitives.ReadUInt32LittleEndian(header), BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4)),
                BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8)), Encoding.ASCII.GetString(body));
    }

    private bool ReadExactly(byte[] buffer)
    {
        int at = 0;
        try
        {
            while (at < buffer.Length)
            {
                int n = _socket.Receive(buffer, at, buffer.Length - at, SocketFlags.None);
                if (n == 0)
                    return false;
                at += n;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return false;
        }
        return true;
    }

    public void Dispose() => _socket.Dispose();
}
