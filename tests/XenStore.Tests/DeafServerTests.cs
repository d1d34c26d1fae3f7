using XenVnvdimm.Tests.Support;
using XenVnvdimm.XenStore;
using XenVnvdimm.XenStore.Client;

namespace XenVnvdimm.Tests;

/// <summary>A server that accepts and then never reads: sends block, and must not hang the client.</summary>
public sealed class DeafServerTests
{
    [Fact]
    public async Task ServerThatStopsReading_TimesOutEveryCall_NeverHangs()
    {
        using var dir = new TempSocket();
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(dir.Path));
        listener.Listen(1);
        await using var client = await XenStoreClient.ConnectAsync(dir.Path, new XenStoreClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(500) });
        using var accepted = await listener.AcceptAsync();

        // Far more than the socket buffers hold.
        var calls = Enumerable.Range(0, 200).Select(i => client.WriteAsync($"/f{i}", new byte[4000])).ToArray();
        var all = Task.WhenAll(calls.Select(async c =>
        {
            var e = await Record.ExceptionAsync(() => c);
            Assert.True(e is TimeoutException or XenStoreConnectionException, $"unexpected {e?.GetType().Name}: {e?.Message}");
        }));
        await all.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.NotNull(client.Failure); // a send that could not finish broke the connection
        Assert.Contains("did not finish in time", client.Failure!.Message);
    }
}
