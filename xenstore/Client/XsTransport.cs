using System.Net.Sockets;

namespace XenVnvdimm.XenStore.Client;

/// <summary>Opens the byte stream to xenstored: a Unix socket, or the xenbus character device.</summary>
internal static class XsTransport
{
    public static async Task<Stream> OpenAsync(string path, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (SocketException socketError)
        {
            socket.Dispose();
            // connect() on a character device fails; /dev/xen/xenbus speaks the same framing through read/write.
            if (!File.Exists(path))
                throw new XenStoreConnectionException($"cannot connect to xenstored at {path}: {socketError.Message}", socketError);
            try
            {
                return new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new XenStoreConnectionException($"cannot open xenstore device {path}: {e.Message} (socket: {socketError.Message})", e);
            }
        }
    }
}
