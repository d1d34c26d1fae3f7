using XenVnvdimm.Tests.Support;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.Tests;

/// <summary>Hand-built requests our client never sends: each gets an error reply or closes only its own connection.</summary>
public sealed class ServerRobustnessTests : IAsyncLifetime
{
    private const uint Error = 16;
    private EmbeddedServer _server = null!;

    public Task InitializeAsync()
    {
        _server = new EmbeddedServer();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(99u, "x\0")]           // unknown type
    [InlineData(15u, "/a\0t\0")]       // WATCH_EVENT is server-to-client
    [InlineData(16u, "EINVAL\0")]      // so is ERROR
    [InlineData(2u, "/a")]             // READ path without its NUL
    [InlineData(2u, "/a\0/b\0")]       // READ with two arguments
    [InlineData(11u, "")]              // WRITE without a path
    [InlineData(14u, "/tool\0")]       // SET_PERMS without permissions
    [InlineData(14u, "/tool\0q0\0")]   // SET_PERMS with a bad letter
    [InlineData(14u, "/tool\0n99999\0")] // domid out of range
    [InlineData(7u, "X\0")]            // TRANSACTION_END neither T nor F
    [InlineData(22u, "/tool\0abc\0")]  // DIRECTORY_PART bad offset
    [InlineData(10u, "notanumber\0")]  // GET_DOMAIN_PATH
    [InlineData(0u, "frobnicate\0")]   // unknown CONTROL command
    [InlineData(4u, "/a\0")]           // WATCH without token
    public void BadRequest_GetsEinval_AndTheConnectionCarriesOn(uint type, string payload)
    {
        using var raw = RawXs.Connect(_server.SocketPath);
        raw.Send(type, 77, System.Text.Encoding.ASCII.GetBytes(payload));
        var reply = raw.Receive();
        Assert.NotNull(reply);
        Assert.Equal((Error, 77u, "EINVAL\0"), (reply.Value.Type, reply.Value.ReqId, reply.Value.Payload));
        raw.Send(2, 78, RawXs.Z("/tool"));
        var ok = raw.Receive()!.Value;
        Assert.Equal((2u, 78u), (ok.Type, ok.ReqId));
    }

    [Fact]
    public void RepliesEchoRequestAndTransactionIds()
    {
        using var raw = RawXs.Connect(_server.SocketPath);
        raw.Send(6, 0xdeadbeef, RawXs.Z(""));
        var start = raw.Receive()!.Value;
        Assert.Equal((6u, 0xdeadbeefu, 0u), (start.Type, start.ReqId, start.TxId));
        uint tx = uint.Parse(start.Payload.TrimEnd('\0'));
        raw.Send(11, 5, RawXs.Z("/echo").Concat("v"u8.ToArray()).ToArray(), tx);
        var write = raw.Receive()!.Value;
        Assert.Equal((11u, 5u, tx, "OK\0"), (write.Type, write.ReqId, write.TxId, write.Payload));
        raw.Send(7, 6, RawXs.Z("T"), tx);
        Assert.Equal("OK\0", raw.Receive()!.Value.Payload);
        raw.Send(2, 7, RawXs.Z("/echo"));
        Assert.Equal("v", raw.Receive()!.Value.Payload);
    }

    [Fact]
    public void DuplicateWatch_IsEexist_UnknownUnwatch_IsEnoent()
    {
        using var raw = RawXs.Connect(_server.SocketPath);
        raw.Send(4, 1, RawXs.Z("/dup", "t"));
        Assert.Equal("OK\0", raw.Receive()!.Value.Payload);
        Assert.Equal((15u, "/dup\0t\0"), (raw.Receive()!.Value.Type, "/dup\0t\0"));
        raw.Send(4, 2, RawXs.Z("/dup", "t"));
        Assert.Equal("EEXIST\0", raw.Receive()!.Value.Payload);
        raw.Send(5, 3, RawXs.Z("/dup", "other"));
        Assert.Equal("ENOENT\0", raw.Receive()!.Value.Payload);
    }

    [Fact]
    public void OversizedLength_ClosesOnlyThatConnection()
    {
        using var witness = RawXs.Connect(_server.SocketPath);
        using var bad = RawXs.Connect(_server.SocketPath);
        bad.Send(RawXs.Frame(2, 1, 0, RawXs.Z("/tool"), lengthOverride: XsLimits.PayloadMax + 1));
        Assert.Null(bad.Receive());
        witness.Send(2, 9, RawXs.Z("/tool"));
        var reply = witness.Receive()!.Value;
        Assert.Equal((2u, 9u), (reply.Type, reply.ReqId));
    }

    [Fact]
    public async Task ClientLeavingMidMessage_LeavesTheServerServing()
    {
        using (var bad = RawXs.Connect(_server.SocketPath))
            bad.Send(RawXs.Frame(11, 1, 0, RawXs.Z("/half"), lengthOverride: 100)); // promises more than it sends
        await using var client = await _server.ConnectAsync();
        await client.WriteAsync("/after", "fine");
        Assert.False(await client.ExistsAsync("/half"));
    }
}
