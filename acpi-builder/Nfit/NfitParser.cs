using System.Buffers.Binary;
using System.Text;
using XenVnvdimm.Acpi.Tables;

namespace XenVnvdimm.Acpi.Nfit;

/// <summary>
/// Decodes an NFIT (ours, QEMU's or a host's) or a bare FIT buffer. Every length is checked the
/// way Linux checks it: a structure whose length does not match its type aborts the parse.
/// </summary>
public static class NfitParser
{
    /// <summary>Decodes a whole NFIT table, verifying signature, length and checksum.</summary>
    public static NfitTable Parse(ReadOnlySpan<byte> table)
    {
        if (table.Length < NfitTable.HeaderSize)
            throw new NfitFormatException($"table is {table.Length} bytes, shorter than the {NfitTable.HeaderSize}-byte NFIT header");
        string signature = Encoding.ASCII.GetString(table[..4]);
        if (signature != "NFIT")
            throw new NfitFormatException($"signature is '{signature}', not 'NFIT'");
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(table[AcpiTableHeader.LengthOffset..]);
        if (length < NfitTable.HeaderSize || length > table.Length)
            throw new NfitFormatException($"header length {length} does not fit the {table.Length} bytes given");
        table = table[..(int)length];
        if (!Checksum.IsValid(table))
            throw new NfitFormatException($"checksum mismatch (bytes sum to 0x{Checksum.Sum(table):x2})");
        return ParseFit(table[NfitTable.HeaderSize..]);
    }

    /// <summary>Decodes a FIT buffer: sub-structures without the table header (what _FIT returns).</summary>
    public static NfitTable ParseFit(ReadOnlySpan<byte> fit)
    {
        var structures = new List<INfitStructure>();
        int offset = 0;
        while (offset < fit.Length)
        {
            if (fit.Length - offset < 4)
                throw new NfitFormatException($"truncated structure header at offset {offset}");
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(fit[offset..]);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(fit[(offset + 2)..]);
            if (length < 4 || length > fit.Length - offset)
                throw new NfitFormatException($"structure type {type} at offset {offset} has length {length}, outside the table");
            var s = fit.Slice(offset, length);
            structures.Add(type switch
            {
                NfitSpaRange.StructureType => NfitSpaRange.Read(Expect(s, type, offset, NfitSpaRange.Size, 64)),
                NfitMemoryDeviceMap.StructureType => NfitMemoryDeviceMap.Read(Expect(s, type, offset, NfitMemoryDeviceMap.Size)),
                NfitControlRegion.StructureType => NfitControlRegion.Read(Expect(s, type, offset, NfitControlRegion.ShortSize, NfitControlRegion.Size)),
                NfitFlushHint.StructureType => NfitFlushHint.Read(Expect(s, type, offset, 16, length)),
                NfitPlatformCapabilities.StructureType => NfitPlatformCapabilities.Read(Expect(s, type, offset, NfitPlatformCapabilities.Size)),
                _ => new NfitUnknownStructure(type, s.ToArray()),
            });
            offset += length;
        }
        return new NfitTable(structures);
    }

    private static ReadOnlySpan<byte> Expect(ReadOnlySpan<byte> s, ushort type, int offset, int size, int altSize = -1)
    {
        if (s.Length != size && s.Length != altSize)
            throw new NfitFormatException($"structure type {type} at offset {offset} has length {s.Length}, expected {size}");
        return s;
    }
}
