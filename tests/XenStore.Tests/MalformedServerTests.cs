using XenVnvdimm.Tests.Support;
using XenVnvdimm.XenStore;
using XenVnvdimm.XenStore.Client;

namespace XenVnvdimm.Tests;

/// <summary>
/// Our client against a fake server that breaks the protocol. Each case must fail every pending
/// call with <see cref="XenStoreConnectionException"/> naming the problem, fail later calls at once,
/// and never hang (each test is bounded by short timeouts).
/// </summary>
public sealed class MalformedServerTests
{
    private const uint Read = 2, Write = 11, WatchEvent = 15;
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    private static Task<XenStoreClient> Connect(FakeServer fake, TimeSpan? timeout = null) =>
        XenStoreClient.ConnectAsync(fake.SocketPath, new XenStoreClientOptions { RequestTimeout = timeout ?? TimeSpan.FromSeconds(30) });

    private static async Task<XenStoreConnectionException> BrokenBy(FakeServer.Script script, string expectedReason)
    {
        await using var fake = new FakeServer(script);
        await using var client = await Connect(fake);
        var e = await Assert.ThrowsAsync<XenStoreConnectionException>(() => client.ReadAsync("/x").WaitAsync(s_bound));
        Assert.Contains(expectedReason, e.Message);
        Assert.NotNull(client.Failure);
        // Later calls fail at once, without touching the wire.
        var later = await Assert.ThrowsAsync<XenStoreConnectionException>(() => client.WriteAsync("/y", "v").WaitAsync(s_bound));
        Assert.Contains(expectedReason, later.Message);
        return e;
    }

    [Fact]
    public Task TruncatedHeader() =>
        BrokenBy((type, req, tx, payload) => new FakeServer.Reply(RawXs.Frame(type, req, tx, [])[..7], CloseAfter: true), "inside a message header");

    [Fact]
    public Task TruncatedPayload() =>
        BrokenBy((type, req, tx, payload) => new FakeServer.Reply(RawXs.Frame(type, req, tx, "abc"u8.ToArray(), lengthOverride: 10), CloseAfter: true),
                 "inside a payload");

    [Fact]
    public Task OversizedLength_IsRejectedBeforeReadingIt() =>
        // The fake keeps the connection open: a client waiting for 5000 bytes would hang here.
        BrokenBy((type, req, tx, payload) => RawXs.Frame(type, req, tx, [], lengthOverride: 5000), "exceeds 4096");

    [Fact]
    public Task UnknownType() =>
        BrokenBy((type, req, tx, payload) => RawXs.Frame(99, req, tx, RawXs.Z("OK")), "unknown message type 99");

    [Fact]
    public Task UnsolicitedReply() =>
        BrokenBy((type, req, tx, payload) => RawXs.Frame(type, req + 1000, tx, RawXs.Z("OK")), "unsolicited reply");

    [Fact]
    public Task ReplyOfTheWrongType() =>
        BrokenBy((type, req, tx, payload) => RawXs.Frame(Write, req, tx, RawXs.Z("OK")), "reply of type Write to a Read request");

    [Fact]
    public Task MalformedWatchEvent() =>
        BrokenBy((type, req, tx, payload) => RawXs.Frame(WatchEvent, 0, 0, "no-nul-at-all"u8.ToArray()), "watch event payload");

    [Fact]
    public Task ServerClosing() =>
        BrokenBy((type, req, tx, payload) => null, "closed the connection");

    [Fact]
    public async Task GarbageBeforeAnyRequest_FailsPendingAndWatches()
    {
        var gate = new TaskCompletionSource();
        await using var fake = new FakeServer((type, req, tx, payload) =>
        {
            // Answer the WATCH properly, then leave the pipelined reads hanging.
            if (type == 4)
                return (byte[])[.. RawXs.Frame(4, req, tx, RawXs.Z("OK")), .. RawXs.Frame(WatchEvent, 0, 0, RawXs.Z("/w", "t"))];
            if (type == Read)
                gate.TrySetResult();
            return Array.Empty<byte>();
        });
        await using var client = await Connect(fake);
        await using var watch = await client.WatchAsync("/w", "t");
        Assert.Equal("/w", (await watch.Events.ReadAsync().AsTask().WaitAsync(s_bound)).Path);
        var reads = Enumerable.Range(0, 10).Select(i => client.ReadAsync($"/r{i}")).ToArray();
        await gate.Task.WaitAsync(s_bound);
        fake.SendRaw(new byte[16].Select((_, i) => (byte)(0xff - i)).ToArray()); // a header with a huge length

        foreach (var r in reads)
            await Assert.ThrowsAsync<XenStoreConnectionException>(() => r.WaitAsync(s_bound));
        await Assert.ThrowsAsync<XenStoreConnectionException>(() => watch.Events.Completion.WaitAsync(s_bound));
    }

    [Fact]
    public async Task SilentServer_TimesOut_AndALateReplyIsDropped()
    {
        var held = new List<(uint Req, uint Tx)>();
        await using var fake = new FakeServer((type, req, tx, payload) =>
        {
            if (held.Count == 0)
            {
                held.Add((req, tx)); // first request: no answer yet
                return Array.Empty<byte>();
            }
            // Second request: first answer the abandoned one late, then this one.
            return (byte[])[.. RawXs.Frame(Read, held[0].Req, held[0].Tx, "late"u8.ToArray()), .. RawXs.Frame(Read, req, tx, "fresh"u8.ToArray())];
        });
        await using var client = await Connect(fake, TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAsync<TimeoutException>(() => client.ReadAsync("/slow"));
        Assert.Null(client.Failure);
        Assert.Equal("fresh", await client.ReadStringAsync("/next").WaitAsync(s_bound));
        Assert.Null(client.Failure);
    }

    [Fact]
    public async Task Cancellation_EndsTheCallButNotTheConnection()
    {
        int count = 0;
        await using var fake = new FakeServer((type, req, tx, payload) =>
            ++count == 1 ? Array.Empty<byte>() : RawXs.Frame(Read, req, tx, "ok"u8.ToArray()));
        await using var client = await Connect(fake);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ReadAsync("/a", cts.Token));
        Assert.Equal("ok", await client.ReadStringAsync("/b").WaitAsync(s_bound));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ReadAsync("/c", new CancellationToken(canceled: true)));
    }

    [Fact]
    public async Task UnknownErrorName_MapsToEinval_LikeLibxenstore()
    {
        await using var fake = new FakeServer((type, req, tx, payload) => RawXs.Frame(16, req, tx, RawXs.Z("EWEIRD")));
        await using var client = await Connect(fake);
        var e = await Assert.ThrowsAsync<XenStoreException>(() => client.ReadAsync("/a"));
        Assert.Equal(XenVnvdimm.XenStore.Wire.XenStoreErrno.EINVAL, e.Error);
        Assert.Null(client.Failure);
    }
}
