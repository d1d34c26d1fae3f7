using System.Buffers.Binary;
using XenVnvdimm.Acpi.Nfit;
using XenVnvdimm.Acpi.Tables;

namespace XenVnvdimm.Tests;

/// <summary>Field offsets and sizes of the NFIT structures, from ACPI 6.4 §5.2.25 tables 5.135-5.149.</summary>
public class NfitLayoutTests
{
    private static byte[] Encode(INfitStructure s)
    {
        var b = new byte[s.Length];
        s.Write(b);
        return b;
    }

    [Fact]
    public void SpaRangeFieldOffsets()
    {
        var b = Encode(new NfitSpaRange(0x1122, 0x0003, 0x44556677, NfitSpaRange.PersistentMemoryGuid,
            0x0102030405060708, 0x1112131415161718, 0x8008));
        Assert.Equal(56, b.Length);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(0)));      // type
        Assert.Equal(56, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(2)));     // length
        Assert.Equal(0x1122, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(4))); // range index
        Assert.Equal(0x0003, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(6))); // flags
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(8)));     // reserved
        Assert.Equal(0x44556677u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(12)));
        // GUID 66f0d379-b4f3-4074-ac43-0d3318b78cdb in ACPI (mixed-endian) byte order.
        Assert.Equal("79D3F066F3B47440AC430D3318B78CDB", Convert.ToHexString(b.AsSpan(16, 16)));
        Assert.Equal(0x0102030405060708UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(32)));
        Assert.Equal(0x1112131415161718UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(40)));
        Assert.Equal(0x8008UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(48)));
    }

    [Fact]
    public void MemoryDeviceMapFieldOffsets()
    {
        var b = Encode(new NfitMemoryDeviceMap(0xA1A2A3A4, 0xB1B2, 0xC1C2, 0xD1D2, 0xE1E2,
            0x0101010101010101, 0x0202020202020202, 0x0303030303030303, 0xF1F2, 0x0001, 0x0008));
        Assert.Equal(48, b.Length);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(0)));
        Assert.Equal(48, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(2)));
        Assert.Equal(0xA1A2A3A4u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(4)));
        Assert.Equal(0xB1B2, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(8)));
        Assert.Equal(0xC1C2, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(10)));
        Assert.Equal(0xD1D2, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(12)));
        Assert.Equal(0xE1E2, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(14)));
        Assert.Equal(0x0101010101010101UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(16)));
        Assert.Equal(0x0202020202020202UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(24)));
        Assert.Equal(0x0303030303030303UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(32)));
        Assert.Equal(0xF1F2, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(40)));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(42)));
        Assert.Equal(8, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(44)));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(46)));
    }

    [Fact]
    public void ControlRegionFieldOffsets()
    {
        var b = Encode(new NfitControlRegion(0x0102, 0x8086, 0x0304, 0x0506, 0x0708, 0x090A, 0x0B0C,
            0x0D, 0x0E, 0x0F10, 0x11121314, 0x0301, 0, 0x1516));
        Assert.Equal(80, b.Length);
        Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(0)));
        Assert.Equal(80, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(2)));
        Assert.Equal(0x0102, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(4)));
        Assert.Equal(0x8086, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(6)));
        Assert.Equal(0x0304, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(8)));
        Assert.Equal(0x0506, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(10)));
        Assert.Equal(0x0708, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(12)));
        Assert.Equal(0x090A, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(14)));
        Assert.Equal(0x0B0C, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(16)));
        Assert.Equal(0x0D, b[18]);
        Assert.Equal(0x0E, b[19]);
        Assert.Equal(0x0F10, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(20)));
        Assert.Equal(0x11121314u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(24)));
        Assert.Equal(0x0301, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(28)));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(30)));
        Assert.Equal(0x1516, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(72)));
    }

    [Fact]
    public void PlatformCapabilitiesFieldOffsets()
    {
        var b = Encode(new NfitPlatformCapabilities(1, 3));
        Assert.Equal("0700" + "1000" + "01000000" + "03000000" + "00000000", Convert.ToHexString(b));
    }

    [Fact]
    public void TableHeaderLengthChecksumAndRoundTrip()
    {
        var table = new NfitTable([
            new NfitSpaRange(2, 3, 1, NfitSpaRange.PersistentMemoryGuid, 1UL << 32, 64 << 20, 0x8008),
            new NfitMemoryDeviceMap(1, 0, 0, 2, 3, 64 << 20, 0, 0, 0, 1, 8),
            new NfitControlRegion(3, 0x8086, 1, 1, 0, 0, 0, 0, 0, 0, 0xABCDEF, 0x0301, 0, 0),
            new NfitPlatformCapabilities(1, 2),
        ]);
        byte[] bytes = table.ToTable();
        Assert.Equal("NFIT", System.Text.Encoding.ASCII.GetString(bytes, 0, 4));
        Assert.Equal((uint)bytes.Length, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(40 + 56 + 48 + 80 + 16, bytes.Length);
        Assert.Equal(1, bytes[8]);
        Assert.True(Checksum.IsValid(bytes));

        var parsed = NfitParser.Parse(bytes);
        Assert.Equal(table.Structures, parsed.Structures);
        Assert.Equal(bytes, parsed.ToTable());
    }

    [Fact]
    public void ParserRejectsWhatLinuxRejects()
    {
        var table = new NfitTable([new NfitSpaRange(2, 3, 0, NfitSpaRange.PersistentMemoryGuid, 0, 4096, 8)]).ToTable();
        var badSum = (byte[])table.Clone();
        badSum[50] ^= 1;
        Assert.Contains("checksum", Assert.Throws<NfitFormatException>(() => NfitParser.Parse(badSum)).Message);

        var fit = table.AsSpan(40).ToArray();
        BinaryPrimitives.WriteUInt16LittleEndian(fit.AsSpan(2), 48); // SPA claiming 48 bytes
        Assert.Contains("expected 56", Assert.Throws<NfitFormatException>(() => NfitParser.ParseFit(fit)).Message);
        BinaryPrimitives.WriteUInt16LittleEndian(fit.AsSpan(2), 200); // beyond the end
        Assert.Contains("outside the table", Assert.Throws<NfitFormatException>(() => NfitParser.ParseFit(fit)).Message);
        Assert.Contains("truncated", Assert.Throws<NfitFormatException>(() => NfitParser.ParseFit(fit.AsSpan(0, 3))).Message);
        Assert.Throws<NfitFormatException>(() => NfitParser.Parse(table.AsSpan(0, 20)));
    }
}
