namespace XenVnvdimm.Acpi.Nfit;

/// <summary>One NFIT sub-structure: it knows its type, its encoded length and how to write itself.</summary>
public interface INfitStructure
{
    /// <summary>NFIT structure type (ACPI 6.4 Table 5.134).</summary>
    ushort Type { get; }

    /// <summary>Encoded length in bytes, including the 4-byte type/length prefix.</summary>
    int Length { get; }

    /// <summary>Writes the structure into exactly <see cref="Length"/> bytes.</summary>
    void Write(Span<byte> destination);
}
