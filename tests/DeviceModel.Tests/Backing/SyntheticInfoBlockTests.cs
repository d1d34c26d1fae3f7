using System.Buffers.Binary;
using System.Text;
using XenVnvdimm.DeviceModel.Backing.InfoBlock;
using Xunit;

namespace XenVnvdimm.Tests.Backing;

/// <summary>
/// Info blocks of every minor version, built here from struct nd_pfn_sb (drivers/nvdimm/pfn.h) and
/// checksummed by the test's own Fletcher64. What each version adds, and what
/// nd_pfn_validate (drivers/nvdimm/pfn_devs.c) does with an older block:
/// 1.0 — no start_pad/end_trunc (read as 0) and no align (1 &lt;&lt; ilog2(dataoff));
/// 1.1 — start_pad, end_trunc; 1.2 — align; 1.3 — flags and padding guaranteed zero;
/// 1.4 — page_size, page_struct_size (before: PAGE_SIZE and 64).
/// The real 1.4 blocks written by a guest's ndctl are tested in <see cref="GuestNamespaceTests"/>.
/// </summary>
public sealed class SyntheticInfoBlockTests
{
    private const ulong MiB = 1UL << 20;
    private const ulong NamespaceSize = 64 * MiB;

    /// <summary>Every field of a minor-4 block; <paramref name="minor"/> only sets the version word.</summary>
    private static byte[] Block(ushort minor, ulong dataoff = 2 * MiB, uint flags = 0, uint startPad = 0, uint endTrunc = 0,
        uint align = 0, uint pageSize = 0, ushort pageStructSize = 0, string signature = "NVDIMM_PFN_INFO\0", uint mode = 2)
    {
        var b = new byte[4096];
        Encoding.ASCII.GetBytes(signature).CopyTo(b, 0);
        Guid.Parse("8a5c1c36-5b0a-4e0f-9d5b-3f6e1c2a7b90").TryWriteBytes(b.AsSpan(16), bigEndian: true, out _);
        Guid.Parse("0e6f4c2d-91d3-4b7a-8c61-2f0d5e9a1b34").TryWriteBytes(b.AsSpan(32), bigEndian: true, out _);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(48), flags);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(52), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(54), minor);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(56), dataoff);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(64), (NamespaceSize - dataoff) / 4096);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(72), mode);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(76), startPad);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(80), endTrunc);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(84), align);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(88), pageSize);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(92), pageStructSize);
        return Seal(b);
    }

    /// <summary>Writes the checksum at 4088: Fletcher64 over LE u32 words (lo += w; hi += lo), field zeroed.</summary>
    private static byte[] Seal(byte[] b)
    {
        b.AsSpan(4088, 8).Clear();
        ulong lo = 0, hi = 0;
        for (int i = 0; i < b.Length; i += 4)
        {
            lo = (lo + BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(i))) & 0xFFFFFFFF;
            hi = (hi + lo) & 0xFFFFFFFF;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(4088), hi << 32 | lo);
        return b;
    }

    private static string Refused(byte[] block) =>
        Assert.Throws<InfoBlockFormatException>(() => PfnInfoBlockParser.Parse(block, NamespaceSize)).Message;

    [Fact]
    public void Version_1_0_ignores_every_later_field_and_derives_the_alignment_from_dataoff()
    {
        // Whatever sits where 1.1+ keep start_pad, end_trunc, align and page_size is not a field in 1.0:
        // the kernel zeroes start_pad/end_trunc and align, and assumes PAGE_SIZE and 64-byte pages.
        var ib = PfnInfoBlockParser.Parse(Block(0, dataoff: 3 * MiB, flags: 0x5, startPad: 0x200000, endTrunc: 0x3000,
            align: 0x1000, pageSize: 65536, pageStructSize: 80), NamespaceSize);
        Assert.Equal(InfoBlockKind.FsDax, ib.Kind);
        Assert.Equal((ushort)0, ib.VersionMinor);
        Assert.Equal(3 * MiB, ib.DataOffset);
        Assert.Equal(0u, ib.StartPad);
        Assert.Equal(0u, ib.EndTruncation);
        Assert.Equal(2 * MiB, ib.Alignment);                   // 1 << ilog2(3 MiB)
        Assert.Equal(4096u, ib.PageSize);
        Assert.Equal((ushort)64, ib.PageStructSize);
        Assert.Equal(NamespaceSize - 3 * MiB, ib.DataSize(NamespaceSize));
        Assert.Equal(Guid.Parse("8a5c1c36-5b0a-4e0f-9d5b-3f6e1c2a7b90"), ib.Uuid);
        Assert.Equal(Guid.Parse("0e6f4c2d-91d3-4b7a-8c61-2f0d5e9a1b34"), ib.ParentUuid);
    }

    [Fact]
    public void Version_1_0_still_refuses_what_every_version_must_get_right()
    {
        Assert.Contains("dataoff", Refused(Block(0, dataoff: 4096)), StringComparison.Ordinal);            // inside the info block
        Assert.Contains("mode", Refused(Block(0, mode: 0)), StringComparison.Ordinal);
        byte[] corrupt = Block(0);
        corrupt[60] ^= 0x10;
        Assert.Contains("checksum", Refused(corrupt), StringComparison.Ordinal);
    }

    [Fact]
    public void Version_1_2_reads_start_pad_end_trunc_and_align_but_not_page_size()
    {
        var ib = PfnInfoBlockParser.Parse(Block(2, dataoff: 4 * MiB, flags: 0x1, endTrunc: 0x5000, align: 0x200000,
            pageSize: 65536, pageStructSize: 80, signature: "NVDIMM_DAX_INFO\0"), NamespaceSize);
        Assert.Equal(InfoBlockKind.DevDax, ib.Kind);
        Assert.Equal(0x5000u, ib.EndTruncation);
        Assert.Equal(2 * MiB, ib.Alignment);                    // recorded, not 1 << ilog2(4 MiB)
        Assert.Equal(4096u, ib.PageSize);                       // 88.. is padding before 1.4
        Assert.Equal((ushort)64, ib.PageStructSize);
        Assert.Equal(NamespaceSize - 4 * MiB - 0x5000, ib.DataSize(NamespaceSize));

        // align 0 in a 1.2 block falls back to the kernel's default, as for 1.0/1.1.
        Assert.Equal(4 * MiB, PfnInfoBlockParser.Parse(Block(2, dataoff: 4 * MiB), NamespaceSize).Alignment);
        // start_pad is a field from 1.1 on, and padded namespaces are refused.
        Assert.Contains("start_pad", Refused(Block(2, startPad: 0x10000)), StringComparison.Ordinal);
        // end_trunc is bounded by the namespace.
        Assert.Contains("leaves no data", Refused(Block(2, endTrunc: (uint)(NamespaceSize - 2 * MiB))), StringComparison.Ordinal);
        Assert.Contains("power of two", Refused(Block(2, align: 0x300000)), StringComparison.Ordinal);
    }

    [Fact]
    public void Version_1_3_guarantees_zero_flags_and_padding()
    {
        var ib = PfnInfoBlockParser.Parse(Block(3, align: 0x200000, endTrunc: 0x2000), NamespaceSize);
        Assert.Equal((ushort)3, ib.VersionMinor);
        Assert.Equal(2 * MiB, ib.Alignment);
        Assert.Equal(0x2000u, ib.EndTruncation);
        Assert.Equal(4096u, ib.PageSize);
        Assert.Equal((ushort)64, ib.PageStructSize);

        Assert.Contains("flags", Refused(Block(3, flags: 0x1)), StringComparison.Ordinal);
        // page_size's place is still padding in 1.3: a value there is not a page size but a broken promise.
        Assert.Contains("padding", Refused(Block(3, pageSize: 4096)), StringComparison.Ordinal);
        byte[] tail = Block(3);
        tail[4000] = 0xFF;
        Assert.Contains("padding", Refused(Seal(tail)), StringComparison.Ordinal);
        // The same non-zero flags are not checked in 1.2, as the kernel does not check them.
        Assert.Equal((ushort)2, PfnInfoBlockParser.Parse(Block(2, flags: 0x1), NamespaceSize).VersionMinor);
    }

    [Fact]
    public void Version_1_4_reads_page_size_and_struct_page_size()
    {
        var ib = PfnInfoBlockParser.Parse(Block(4, align: 0x200000, pageSize: 4096, pageStructSize: 64), NamespaceSize);
        Assert.Equal(4096u, ib.PageSize);
        Assert.Equal((ushort)64, ib.PageStructSize);
        Assert.Equal((ushort)80, PfnInfoBlockParser.Parse(Block(4, pageSize: 4096, pageStructSize: 80), NamespaceSize).PageStructSize);
        Assert.Contains("page size 65536", Refused(Block(4, pageSize: 65536, pageStructSize: 64)), StringComparison.Ordinal);
        byte[] padded = Block(4, pageSize: 4096, pageStructSize: 64);
        padded[94] = 1;                                         // the first padding byte after page_struct_size
        Assert.Contains("padding", Refused(Seal(padded)), StringComparison.Ordinal);
        Assert.Contains("version", Refused(Block(5, pageSize: 4096, pageStructSize: 64)), StringComparison.Ordinal);
    }
}
