using XenVnvdimm.Tests.Support;
using XenVnvdimm.XenStore.Server;

namespace XenVnvdimm.Tests;

/// <summary>A client that sends but never reads must not make the server hoard replies without bound.</summary>
public sealed class SlowConsumerTests
{
    [Fact]
    public async Task ClientThatNeverReads_IsDropped_OthersAreServed()
    {
        await using var server = new EmbeddedServer(new XenStoreServerOptions { MaxQueuedOutputBytes = 64 * 1024 });
        await using var witness = await server.ConnectAsync();
        using var deaf = RawXs.Connect(server.SocketPath);
        await witness.WriteAsync("/big-value", new byte[3000]);

        // Each READ of /big-value queues a 3 KB reply the client never collects.
        var request = RawXs.Frame(2, 1, 0, RawXs.Z("/big-value"));
        var flood = Task.Run(() =>
        {
            try
            {
                for (int i = 0; i < 5000; i++)
                    deaf.Send(request);
            }
            catch (System.Net.Sockets.SocketException)
            {
                // Dropped by the server: what this test wants.
            }
        });

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (server.Server.ConnectionCount > 1)
        {
            await witness.ReadAsync("/big-value", timeout.Token); // served throughout
            await Task.Delay(10, timeout.Token);
        }
        await flood.WaitAsync(timeout.Token);
        Assert.Equal(1, server.Server.ConnectionCount);
        Assert.Equal(3000, (await witness.ReadAsync("/big-value")).Length);
    }
}
