using XenVnvdimm.XenStore;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.Tests;

/// <summary>The codec against hand-written bytes from xs_wire.h's layout.</summary>
public sealed class CodecTests
{
    [Fact]
    public void Header_EncodesFourNativeU32s()
    {
        var message = new XsMessage(XsMessageType.Write, 0x01020304, 7, "/a\0v"u8.ToArray());
        byte[] expected =
        [
            11, 0, 0, 0,            // type XS_WRITE
            4, 3, 2, 1,             // req_id
            7, 0, 0, 0,             // tx_id
            4, 0, 0, 0,             // len
            (byte)'/', (byte)'a', 0, (byte)'v',
        ];
        Assert.Equal(expected, message.Encode());
        Assert.Equal(new XsHeader(XsMessageType.Write, 0x01020304, 7, 4), XsHeader.Read(expected));
    }

    [Theory]
    [InlineData(XsMessageType.Control, 0u)]
    [InlineData(XsMessageType.Directory, 1u)]
    [InlineData(XsMessageType.Read, 2u)]
    [InlineData(XsMessageType.GetPerms, 3u)]
    [InlineData(XsMessageType.Watch, 4u)]
    [InlineData(XsMessageType.Unwatch, 5u)]
    [InlineData(XsMessageType.TransactionStart, 6u)]
    [InlineData(XsMessageType.TransactionEnd, 7u)]
    [InlineData(XsMessageType.GetDomainPath, 10u)]
    [InlineData(XsMessageType.Write, 11u)]
    [InlineData(XsMessageType.Mkdir, 12u)]
    [InlineData(XsMessageType.Rm, 13u)]
    [InlineData(XsMessageType.SetPerms, 14u)]
    [InlineData(XsMessageType.WatchEvent, 15u)]
    [InlineData(XsMessageType.Error, 16u)]
    [InlineData(XsMessageType.IsDomainIntroduced, 17u)]
    [InlineData(XsMessageType.ResetWatches, 21u)]
    [InlineData(XsMessageType.DirectoryPart, 22u)]
    public void MessageTypes_HaveXsWireNumbers(XsMessageType type, uint number)
    {
        Assert.Equal(number, (uint)type);
        Assert.True(XsMessageTypes.IsKnown(type));
    }

    [Fact]
    public void UnknownTypes_AreNotKnown()
    {
        Assert.False(XsMessageTypes.IsKnown((XsMessageType)23));
        Assert.False(XsMessageTypes.IsKnown(XsMessageType.Invalid));
    }

    [Theory]
    [InlineData("EINVAL", 22)]
    [InlineData("EACCES", 13)]
    [InlineData("EEXIST", 17)]
    [InlineData("EISDIR", 21)]
    [InlineData("ENOENT", 2)]
    [InlineData("ENOMEM", 12)]
    [InlineData("ENOSPC", 28)]
    [InlineData("EIO", 5)]
    [InlineData("ENOTEMPTY", 39)]
    [InlineData("ENOSYS", 38)]
    [InlineData("EROFS", 30)]
    [InlineData("EBUSY", 16)]
    [InlineData("EAGAIN", 11)]
    [InlineData("EISCONN", 106)]
    [InlineData("E2BIG", 7)]
    [InlineData("EPERM", 1)]
    public void ErrorStrings_MapToLinuxErrno_AndBack(string name, int errno)
    {
        var parsed = XsErrors.FromWire(System.Text.Encoding.ASCII.GetBytes(name + "\0"), out bool known);
        Assert.True(known);
        Assert.Equal(errno, (int)parsed);
        Assert.Equal(name, XsErrors.ToWire(parsed));
    }

    [Theory]
    [InlineData("22\0")]
    [InlineData("")]
    [InlineData("einval\0")]
    public void UnknownErrorStrings_BecomeEinval(string payload)
    {
        Assert.Equal(XenStoreErrno.EINVAL, XsErrors.FromWire(System.Text.Encoding.ASCII.GetBytes(payload), out bool known));
        Assert.False(known);
    }

    [Fact]
    public void Payload_SplitsNulTerminatedStrings()
    {
        Assert.Equal(["a", "", "bc"], XsPayload.Split("a\0\0bc\0"u8, out var rest));
        Assert.Null(rest);
        Assert.Equal(["a"], XsPayload.Split("a\0tail"u8, out rest));
        Assert.Equal("tail", rest);
        Assert.Equal("a\0bc\0"u8.ToArray(), XsPayload.Strings("a", "bc"));
        Assert.Equal("/p\0\x01\x00"u8.ToArray(), XsPayload.StringThenBytes("/p", [1, 0]));
    }

    [Theory]
    [InlineData("/", true)]
    [InlineData("/local/domain/0", true)]
    [InlineData("relative/path", true)]
    [InlineData("/a-b_c@d", true)]
    [InlineData("", false)]
    [InlineData("/a/", false)]
    [InlineData("/a//b", false)]
    [InlineData("/a.b", false)]
    [InlineData("/a b", false)]
    public void Paths_FollowXenstoreTxt(string path, bool valid) => Assert.Equal(valid, XsPath.IsValid(path));

    [Fact]
    public void PathLengths_AreBounded()
    {
        Assert.True(XsPath.IsValid("/" + new string('a', 3071)));
        Assert.False(XsPath.IsValid("/" + new string('a', 3072)));
        Assert.True(XsPath.IsValid(new string('a', 2048)));
        Assert.False(XsPath.IsValid(new string('a', 2049)));
    }

    [Fact]
    public void ChildOf_IsComponentWise()
    {
        Assert.True(XsPath.IsChildOf("/a/b", "/a"));
        Assert.True(XsPath.IsChildOf("/a", "/a"));
        Assert.True(XsPath.IsChildOf("/a", "/"));
        Assert.False(XsPath.IsChildOf("/ab", "/a"));
        Assert.False(XsPath.IsChildOf("/a", "/a/b"));
    }

    [Fact]
    public void Permissions_ParseFormatAndEvaluate()
    {
        var p = XenStorePermissions.Parse(["n5", "r6", "w7", "b8"]);
        Assert.Equal(5, p.Owner);
        Assert.Equal(XenStoreAccess.None, p.Others);
        Assert.Equal(["n5", "r6", "w7", "b8"], p.ToStrings());
        Assert.Equal(XenStoreAccess.Both, p.AccessOf(5));   // the owner
        Assert.Equal(XenStoreAccess.Read, p.AccessOf(6));
        Assert.Equal(XenStoreAccess.Write, p.AccessOf(7));
        Assert.Equal(XenStoreAccess.Both, p.AccessOf(8));
        Assert.Equal(XenStoreAccess.None, p.AccessOf(9));   // everybody else: first entry's letter
        Assert.Equal(XenStoreAccess.Read, XenStorePermissions.Parse("r0").AccessOf(3));
        Assert.Equal(p, XenStorePermissions.Parse("n5 r6 w7 b8"));
        Assert.Equal("n5 r6 w7 b8", p.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("x1")]
    [InlineData("r")]
    [InlineData("r-1")]
    [InlineData("r65536")]
    [InlineData("r1a")]
    public void Permissions_RejectMalformedEntries(string entries) =>
        Assert.Throws<FormatException>(() => XenStorePermissions.Parse(entries));

    [Fact]
    public async Task FrameReader_ReadsWholeMessages_AndRejectsTruncationAndOversize()
    {
        var ok = new XsMessage(XsMessageType.Read, 1, 0, "/x\0"u8.ToArray()).Encode();
        var header = new byte[XsHeader.Size];
        var m = await XsFrameReader.ReadAsync(new MemoryStream(ok), header, default);
        Assert.Equal("/x\0"u8.ToArray(), m!.Payload.ToArray());
        Assert.Null(await XsFrameReader.ReadAsync(new MemoryStream([]), header, default));
        await Assert.ThrowsAsync<XenStoreProtocolException>(() => XsFrameReader.ReadAsync(new MemoryStream(ok[..10]), header, default).AsTask());
        await Assert.ThrowsAsync<XenStoreProtocolException>(() => XsFrameReader.ReadAsync(new MemoryStream(ok[..17]), header, default).AsTask());
        var big = new XsHeader(XsMessageType.Read, 1, 0, 4097);
        var bigBytes = new byte[16];
        big.Write(bigBytes);
        var e = await Assert.ThrowsAsync<XenStoreProtocolException>(() => XsFrameReader.ReadAsync(new MemoryStream(bigBytes), header, default).AsTask());
        Assert.Contains("4097", e.Message);
    }
}
