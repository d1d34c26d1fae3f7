using System.Diagnostics;
using XenVnvdimm.Tests.Support;
using XenVnvdimm.XenStore.Client;

namespace XenVnvdimm.Tests;

/// <summary>
/// The /dev/xen/xenbus path, as far as it can be shown without Xen: a path that is not a socket is
/// opened as a file and spoken to with the same framing. A FIFO opened read-write echoes our own
/// request back, which the client accepts as the reply (same type and req_id).
/// </summary>
public sealed class DeviceTransportTests
{
    [Fact]
    public async Task NonSocketPath_IsOpenedAsADevice_WithTheSameFraming()
    {
        using var dir = new TempSocket();
        string fifo = Path.Combine(dir.Directory, "xenbus");
        using (var mkfifo = Process.Start("mkfifo", [fifo])!)
            await mkfifo.WaitForExitAsync();
        Assert.True(File.Exists(fifo));

        await using var client = await XenStoreClient.ConnectAsync(fifo, new XenStoreClientOptions { RequestTimeout = TimeSpan.FromSeconds(10) });
        Assert.Equal("/echo\0"u8.ToArray(), await client.ReadAsync("/echo"));
        Assert.Null(client.Failure);
    }
}
