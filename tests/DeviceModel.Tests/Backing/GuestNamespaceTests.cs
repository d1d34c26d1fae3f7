using System.Buffers.Binary;
using System.Security.Cryptography;
using XenVnvdimm.DeviceModel.Backing;
using XenVnvdimm.DeviceModel.Backing.InfoBlock;
using XenVnvdimm.Tests.Backing.Support;
using Xunit;

namespace XenVnvdimm.Tests.Backing;

/// <summary>
/// Real info blocks: a guest's own ndctl wrote them into QEMU NVDIMM backing files; the host parses
/// them and must agree with the guest's sysfs, and resolves the guest's DAX file from the image.
/// </summary>
[Collection(GuestNamespacesCollection.Name)]
public sealed class GuestNamespaceTests
{
    private readonly GuestNamespaces _guest;

    public GuestNamespaceTests(GuestNamespaces guest) => _guest = guest;

    private byte[] InfoBlockOf(string ns)
    {
        using var f = File.OpenRead(_guest.Image);
        var block = new byte[PfnInfoBlock.Size];
        f.Position = (long)_guest.NamespaceOffset(ns) + PfnInfoBlock.Offset;
        f.ReadExactly(block);
        return block;
    }

    [Fact]
    public void FsdaxInfoBlockAgreesWithTheGuestsPfnDevice()
    {
        ulong nsStart = _guest.Number("namespace0.1.resource");
        ulong nsSize = _guest.Number("namespace0.1.size");
        Assert.NotEqual(_guest.Number("region0.resource"), nsStart); // the fsdax namespace sits after the devdax one
        Assert.Equal("namespace0.1", _guest.Values["pfn0.0.namespace"]);
        var ib = PfnInfoBlockParser.Parse(InfoBlockOf("namespace0.1"), nsSize);
        Assert.Equal(InfoBlockKind.FsDax, ib.Kind);
        Assert.Equal(_guest.Number("pfn0.0.resource") - nsStart, ib.DataOffset);
        Assert.Equal(_guest.Number("pfn0.0.align"), ib.Alignment);
        Assert.Equal(_guest.Number("pfn0.0.size"), ib.DataSize(nsSize));
        Assert.Equal(0u, ib.StartPad);
    }

    [Fact]
    public void DevdaxInfoBlockAgreesWithTheGuestsDaxDevice()
    {
        ulong nsStart = _guest.Number("namespace0.0.resource");
        ulong nsSize = _guest.Number("namespace0.0.size");
        Assert.Equal("namespace0.0", _guest.Values["dax0.0.namespace"]);
        var ib = PfnInfoBlockParser.Parse(InfoBlockOf("namespace0.0"), nsSize);
        Assert.Equal(InfoBlockKind.DevDax, ib.Kind);
        Assert.Equal(_guest.Number("dax0.0.resource") - nsStart, ib.DataOffset);
        Assert.Equal(_guest.Number("dax0.0.align"), ib.Alignment);
        Assert.Equal(_guest.Number("dax0.0.size"), ib.DataSize(nsSize));
    }

    [Fact]
    public void CorruptedKernelInfoBlocksAreRefused()
    {
        byte[] real = InfoBlockOf("namespace0.1");

        byte[] badChecksum = (byte[])real.Clone();
        badChecksum[100] ^= 0x01;
        Assert.Contains("checksum", Assert.Throws<InfoBlockFormatException>(() => PfnInfoBlockParser.Parse(badChecksum)).Message, StringComparison.Ordinal);

        // Re-checksummed variants: Fletcher64 is the one that just accepted the kernel's own block.
        Assert.Contains("version", Refuse(real, b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(54), 5)), StringComparison.Ordinal);
        Assert.Contains("version", Refuse(real, b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(52), 2)), StringComparison.Ordinal);
        Assert.Contains("start_pad", Refuse(real, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(76), 0x200000)), StringComparison.Ordinal);
        Assert.Contains("mode", Refuse(real, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(72), 3)), StringComparison.Ordinal);
        Assert.Contains("BTT", Refuse(real, b => "BTT_ARENA_INFO\0\0"u8.CopyTo(b)), StringComparison.Ordinal);
        Assert.Contains("signature", Refuse(real, b => b.AsSpan(0, 16).Clear()), StringComparison.Ordinal);
    }

    [Fact]
    public void OlderMinorVersionsGetTheKernelsDefaults()
    {
        byte[] real = InfoBlockOf("namespace0.1");
        // Version 1.1 has no align field: the kernel uses 1 << ilog2(dataoff).
        var v11 = PfnInfoBlockParser.Parse(Rechecksum(real, b =>
        {
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(54), 1);
            b.AsSpan(84, 10).Clear();
        }));
        ulong dataoff = _guest.Number("pfn0.0.resource") - _guest.Number("namespace0.1.resource");
        Assert.Equal(1UL << System.Numerics.BitOperations.Log2(dataoff), v11.Alignment);
        Assert.Equal(4096u, v11.PageSize);
        Assert.Equal((ushort)64, v11.PageStructSize);
    }

    [Fact]
    public void GuestsDaxFileIsResolvedFromTheHostImage()
    {
        ulong regionStart = _guest.Number("region0.resource");
        ulong nsStart = _guest.Number("namespace0.1.resource");
        ulong pfnStart = _guest.Number("pfn0.0.resource");
        ulong partitionStart = _guest.Number("part.start") * 512;
        Assert.Contains("dax", _guest.Values["mount.options"], StringComparison.Ordinal);
        var ib = PfnInfoBlockParser.Parse(InfoBlockOf("namespace0.1"), _guest.Number("namespace0.1.size"));

        // The host sees the guest's /dev/pmem0 as the image from dataoff on, with its partition table.
        ulong imageOffsetOfPmem0 = nsStart - regionStart + ib.DataOffset;
        string loop = Shell.Run("losetup", "--find", "--show", "--partscan", "--read-only", "--offset",
            imageOffsetOfPmem0.ToString(System.Globalization.CultureInfo.InvariantCulture), _guest.Image).Trim();
        string mnt = Directory.CreateTempSubdirectory("xvn-guest-mnt-").FullName;
        bool mounted = false;
        string? createdNode = null;
        try
        {
            (string part, bool created) = Shell.PartitionNode(loop);
            createdNode = created ? part : null;
            Shell.Run("mount", "-t", "ext4", "-o", "ro,noload", part, mnt);
            mounted = true;
            // The SPA of the loop disk's byte 0 is the guest's pfn0.0 resource: resolved SPAs are guest addresses.
            using var r = BackingResolver.Resolve(Path.Combine(mnt, "f"), new BackingOptions { AssumeSpaBase = pfnStart });
            Assert.True(r.Accepted, string.Join("; ", r.Refusals));
            Assert.Equal(partitionStart, r.Device!.PartitionStart);

            var expected = Filefrag.ExpectedRuns(_guest.GuestFilefrag, partitionStart);
            Assert.Equal(expected, r.Runs.Select(x => (x.FileOffset, x.DeviceOffset, x.Length)).ToList());

            using var image = File.OpenRead(_guest.Image);
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var run in r.Runs)
            {
                ulong spa = run.Spa(r.Spa!.DeviceSpaBase);
                Assert.Equal(pfnStart + partitionStart, spa - run.DeviceOffset + partitionStart);
                var buf = new byte[run.Length];
                image.Position = (long)(spa - regionStart); // SPA → offset in the NVDIMM's backing file
                image.ReadExactly(buf);
                sha.AppendData(buf);
            }
            Assert.Equal(_guest.Values["file.sha256"], Convert.ToHexStringLower(sha.GetHashAndReset()));
        }
        finally
        {
            if (mounted)
                Shell.Run("umount", [mnt], check: false);
            if (createdNode is not null)
                File.Delete(createdNode);
            Shell.Run("partx", ["-d", loop], check: false);
            Shell.Run("losetup", ["-d", loop], check: false);
            Directory.Delete(mnt);
        }
    }

    private static byte[] Rechecksum(byte[] real, Action<byte[]> mutate)
    {
        byte[] b = (byte[])real.Clone();
        mutate(b);
        b.AsSpan(4088, 8).Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(4088), Fletcher64.Compute(b));
        return b;
    }

    private static string Refuse(byte[] real, Action<byte[]> mutate)
        => Assert.Throws<InfoBlockFormatException>(() => PfnInfoBlockParser.Parse(Rechecksum(real, mutate))).Message;
}
