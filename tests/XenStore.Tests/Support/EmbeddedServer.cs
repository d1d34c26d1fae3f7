using XenVnvdimm.XenStore.Client;
using XenVnvdimm.XenStore.Server;

namespace XenVnvdimm.Tests.Support;

/// <summary>An in-process embedded xenstored on a temp socket, for one test.</summary>
public sealed class EmbeddedServer : IAsyncDisposable
{
    private readonly TempSocket _socket = new();

    public EmbeddedServer(XenStoreServerOptions? options = null)
    {
        Server = new XenStoreServer(options);
        Server.Start(_socket.Path);
    }

    public XenStoreServer Server { get; }

    public string SocketPath => _socket.Path;

    public string Directory => _socket.Directory;

    public Task<XenStoreClient> ConnectAsync(XenStoreClientOptions? options = null) =>
        XenStoreClient.ConnectAsync(SocketPath, options ?? new XenStoreClientOptions { RequestTimeout = TimeSpan.FromSeconds(10) });

    /// <summary>A client acting as an unprivileged domain (via the server's set-domid control command).</summary>
    public async Task<XenStoreClient> ConnectAsDomainAsync(ushort domid)
    {
        var client = await ConnectAsync();
        await client.ControlAsync("set-domid", [domid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        return client;
    }

    public string DumpText()
    {
        var w = new StringWriter();
        Server.Dump(w);
        return w.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _socket.Dispose();
    }
}
