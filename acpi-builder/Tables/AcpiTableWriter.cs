using System.Buffers.Binary;
using System.Text;

namespace XenVnvdimm.Acpi.Tables;

/// <summary>
/// Writes one ACPI table: the header is reserved when the writer is created, and its length and
/// checksum are filled in by <see cref="Finish"/> once the body is complete (like QEMU's
/// acpi_table_begin/acpi_table_end).
/// </summary>
public sealed class AcpiTableWriter
{
    private readonly List<byte> _bytes = new(4096);
    private bool _finished;

    /// <summary>Starts a table with the given header; length and checksum are zero until finished.</summary>
    public AcpiTableWriter(AcpiTableHeader header)
    {
        Span<byte> h = stackalloc byte[AcpiTableHeader.Size];
        WriteAscii(h.Slice(AcpiTableHeader.SignatureOffset, 4), header.Signature, exact: true);
        h[AcpiTableHeader.RevisionOffset] = header.Revision;
        WriteAscii(h.Slice(AcpiTableHeader.OemIdOffset, 6), header.OemId, exact: false);
        WriteAscii(h.Slice(AcpiTableHeader.OemTableIdOffset, 8), header.OemTableId, exact: false);
        BinaryPrimitives.WriteUInt32LittleEndian(h[AcpiTableHeader.OemRevisionOffset..], header.OemRevision);
        WriteAscii(h.Slice(AcpiTableHeader.CreatorIdOffset, 4), header.CreatorId, exact: true);
        BinaryPrimitives.WriteUInt32LittleEndian(h[AcpiTableHeader.CreatorRevisionOffset..], header.CreatorRevision);
        _bytes.AddRange(h);
    }

    /// <summary>Current length of the table in bytes, header included.</summary>
    public int Length => _bytes.Count;

    /// <summary>Appends raw bytes to the table body.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        if (_finished)
            throw new InvalidOperationException("table already finished");
        _bytes.AddRange(data);
    }

    /// <summary>Fills in length and checksum and returns the complete table.</summary>
    public byte[] Finish()
    {
        _finished = true;
        byte[] table = _bytes.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(AcpiTableHeader.LengthOffset), (uint)table.Length);
        table[AcpiTableHeader.ChecksumOffset] = 0;
        table[AcpiTableHeader.ChecksumOffset] = (byte)(0x100 - Checksum.Sum(table));
        return table;
    }

    private static void WriteAscii(Span<byte> field, string value, bool exact)
    {
        if (value.Length > field.Length || (exact && value.Length != field.Length) || !Ascii.IsValid(value))
            throw new ArgumentException($"'{value}' does not fit an ACPI header field of {field.Length} ASCII characters");
        field.Fill((byte)' ');
        Encoding.ASCII.GetBytes(value, field);
    }
}
