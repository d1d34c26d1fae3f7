using System.Buffers.Binary;
using XenVnvdimm.Acpi.Tables;

namespace XenVnvdimm.Acpi.Nfit;

/// <summary>An NFIT: its sub-structures in table order, with typed views.</summary>
public sealed class NfitTable
{
    /// <summary>The 4-byte reserved field after the standard header.</summary>
    public const int HeaderSize = AcpiTableHeader.Size + 4;

    /// <summary>NFIT table revision.</summary>
    public const byte Revision = 1;

    /// <summary>Creates a table from its sub-structures.</summary>
    public NfitTable(IReadOnlyList<INfitStructure> structures) => Structures = structures;

    /// <summary>All sub-structures, in order.</summary>
    public IReadOnlyList<INfitStructure> Structures { get; }

    /// <summary>SPA range structures.</summary>
    public IReadOnlyList<NfitSpaRange> SpaRanges => Structures.OfType<NfitSpaRange>().ToList();

    /// <summary>Memory-device-to-SPA maps.</summary>
    public IReadOnlyList<NfitMemoryDeviceMap> MemoryDeviceMaps => Structures.OfType<NfitMemoryDeviceMap>().ToList();

    /// <summary>Control regions.</summary>
    public IReadOnlyList<NfitControlRegion> ControlRegions => Structures.OfType<NfitControlRegion>().ToList();

    /// <summary>Platform capabilities, if present.</summary>
    public NfitPlatformCapabilities? PlatformCapabilities => Structures.OfType<NfitPlatformCapabilities>().FirstOrDefault();

    /// <summary>
    /// The sub-structures only, concatenated: what <c>_FIT</c> returns to the guest (Linux parses a
    /// _FIT buffer without the table header).
    /// </summary>
    public byte[] ToFitBuffer()
    {
        var buffer = new byte[Structures.Sum(s => s.Length)];
        int offset = 0;
        foreach (var s in Structures)
        {
            s.Write(buffer.AsSpan(offset, s.Length));
            offset += s.Length;
        }
        return buffer;
    }

    /// <summary>The complete ACPI table: header, reserved word and sub-structures, checksummed.</summary>
    public byte[] ToTable(AcpiTableHeader? header = null)
    {
        var writer = new AcpiTableWriter(header ?? new AcpiTableHeader("NFIT", Revision));
        Span<byte> reserved = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(reserved, 0);
        writer.Write(reserved);
        writer.Write(ToFitBuffer());
        return writer.Finish();
    }
}
