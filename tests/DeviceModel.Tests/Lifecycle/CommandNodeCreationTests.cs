using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.XenStore;
using XenVnvdimm.XenStore.Client;
using XenVnvdimm.XenStore.Server;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.Tests.Lifecycle;

/// <summary>
/// The command node is created, emptied and made dom0-only in one transaction, against the embedded
/// xenstored, with the companion's directory opened to the guest (so a node created there inherits
/// the guest's access) and a stale command node open to it. The requests the companion sends are
/// recorded off the wire: every one that touches the command node must belong to one transaction
/// that sets 'n0' and is committed — xenstored makes a transaction's nodes visible only at commit,
/// so nobody can meet the node with the permissions it was created with.
/// </summary>
public sealed class CommandNodeCreationTests : IAsyncLifetime
{
    private const ushort Guest = 5;
    private readonly string _dir = Directory.CreateTempSubdirectory("xvnd-cmdnode-").FullName;
    private readonly XenStoreServer _server = new();
    private XenStoreClient _admin = null!;
    private XenStoreClient _guest = null!;

    private string Socket => Path.Combine(_dir, "xs.sock");
    private static string Base => XenStoreLayout.Base(Guest);
    private static string Command => XenStoreLayout.Command(Guest);

    public async Task InitializeAsync()
    {
        _server.Start(Socket);
        _admin = await XenStoreClient.ConnectAsync(Socket);
        _guest = await XenStoreClient.ConnectAsync(Socket);
        await _guest.ControlAsync("set-domid", [Guest.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await _admin.MkdirAsync(Base);
        await _admin.SetPermissionsAsync(Base, XenStorePermissions.Parse("n0 b5"));
        await _admin.WriteAsync(Command, "stale1 add backend=/etc/shadow");
        await _admin.WriteAsync(Command + "/child", "x");
        await _admin.SetPermissionsAsync(Command, XenStorePermissions.Parse("n0 b5"));
    }

    public async Task DisposeAsync()
    {
        await _guest.DisposeAsync();
        await _admin.DisposeAsync();
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task StartingReplacesAStaleNodeWithAnEmptyDom0OnlyOneInOneTransaction()
    {
        var wire = await RecordAsync(c => c.StartingAsync(default));

        await AssertDom0OnlyAndEmptyAsync();
        AssertOneCommittedTransaction(wire, expectRemoval: true);
    }

    [Fact]
    public async Task ReattachingCreatesAMissingNodeTheSameWay()
    {
        await _admin.RemoveAsync(Command);
        var wire = await RecordAsync(c => c.ReattachingAsync(default));

        await AssertDom0OnlyAndEmptyAsync();
        AssertOneCommittedTransaction(wire, expectRemoval: true);
    }

    [Fact]
    public async Task ReattachingLeavesAnExistingNodeAsItIs()
    {
        // Its permissions are not repaired silently: every command on it is refused instead (see the sim tests).
        var wire = await RecordAsync(c => c.ReattachingAsync(default));

        Assert.Equal("n0 b5", (await _admin.GetPermissionsAsync(Command)).ToString());
        Assert.DoesNotContain(wire, m => m.Type is XsMessageType.Write or XsMessageType.SetPerms or XsMessageType.Rm && m.Path == Command);
    }

    private async Task AssertDom0OnlyAndEmptyAsync()
    {
        Assert.Equal("n0", (await _admin.GetPermissionsAsync(Command)).ToString());
        Assert.Equal("", await _admin.ReadStringAsync(Command));
        Assert.Empty(await _admin.ListAsync(Command));
        Assert.Equal(XenStoreErrno.EACCES, (await Assert.ThrowsAsync<XenStoreException>(() => _guest.ReadAsync(Command))).Error);
    }

    private static void AssertOneCommittedTransaction(List<Request> wire, bool expectRemoval)
    {
        var touching = wire.Where(m => m.Path == Command && m.Type is XsMessageType.Write or XsMessageType.Mkdir or XsMessageType.Rm or XsMessageType.SetPerms).ToList();
        Assert.NotEmpty(touching);
        uint tx = touching[0].Tx;
        Assert.NotEqual(0u, tx);
        Assert.All(touching, m => Assert.Equal(tx, m.Tx));
        Assert.Equal(expectRemoval ? [XsMessageType.Rm, XsMessageType.Write, XsMessageType.SetPerms] : new[] { XsMessageType.Write, XsMessageType.SetPerms },
            touching.Select(m => m.Type));
        Assert.Equal(new[] { Command, "n0" }, touching.Single(m => m.Type == XsMessageType.SetPerms).Args);
        var end = Assert.Single(wire, m => m.Type == XsMessageType.TransactionEnd && m.Tx == tx);
        Assert.Equal(new[] { "T" }, end.Args);
        Assert.True(wire.IndexOf(end) > wire.IndexOf(touching[^1]));
    }

    private async Task<List<Request>> RecordAsync(Func<CompanionXenStore, Task> act)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(Socket));
        var recording = new RecordingStream(new NetworkStream(socket, ownsSocket: true));
        await using (var companion = CompanionXenStore.Over(XenStoreClient.Connect(recording), Guest, NullLogger.Instance))
            await act(companion);
        return recording.Requests();
    }

    private sealed record Request(XsMessageType Type, uint Tx, string[] Args)
    {
        public string? Path => Args.Length > 0 ? Args[0] : null;
    }

    /// <summary>Passes a connection through and keeps what the client sent.</summary>
    private sealed class RecordingStream(Stream inner) : Stream
    {
        private readonly MemoryStream _sent = new();

        public List<Request> Requests()
        {
            var list = new List<Request>();
            byte[] all;
            lock (_sent)
                all = _sent.ToArray();
            for (int at = 0; at + 16 <= all.Length;)
            {
                var type = (XsMessageType)BinaryPrimitives.ReadUInt32LittleEndian(all.AsSpan(at));
                uint tx = BinaryPrimitives.ReadUInt32LittleEndian(all.AsSpan(at + 8));
                int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(all.AsSpan(at + 12));
                string payload = Encoding.UTF8.GetString(all, at + 16, len);
                list.Add(new Request(type, tx, payload.TrimEnd('\0').Split('\0')));
                at += 16 + len;
            }
            return list;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            lock (_sent)
                _sent.Write(buffer);
            inner.Write(buffer);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            lock (_sent)
                _sent.Write(buffer.Span);
            return inner.WriteAsync(buffer, cancellationToken);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
