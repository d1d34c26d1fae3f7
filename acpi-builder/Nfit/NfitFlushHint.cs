using System.Buffers.Binary;

namespace XenVnvdimm.Acpi.Nfit;

// ACPI 6.4 §5.2.25.8 Flush Hint Address Structure (decoded from host tables; we do not emit it).
/// <summary>Flush hint addresses of one NVDIMM.</summary>
/// <param name="DeviceHandle">NFIT device handle.</param>
/// <param name="Addresses">Flush hint addresses.</param>
public sealed record NfitFlushHint(uint DeviceHandle, IReadOnlyList<ulong> Addresses) : INfitStructure
{
    /// <summary>Structure type 6.</summary>
    public const ushort StructureType = 6;

    internal const int DeviceHandleOffset = 4;
    internal const int CountOffset = 8;
    internal const int AddressesOffset = 16;

    /// <inheritdoc/>
    public ushort Type => StructureType;

    /// <inheritdoc/>
    public int Length => AddressesOffset + 8 * Addresses.Count;

    /// <inheritdoc/>
    public void Write(Span<byte> d)
    {
        d[..Length].Clear();
        NfitField.WriteHeader(d, StructureType, Length);
        BinaryPrimitives.WriteUInt32LittleEndian(d[DeviceHandleOffset..], DeviceHandle);
        BinaryPrimitives.WriteUInt16LittleEndian(d[CountOffset..], checked((ushort)Addresses.Count));
        for (int i = 0; i < Addresses.Count; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(d[(AddressesOffset + 8 * i)..], Addresses[i]);
    }

    /// <summary>Decodes the structure; the count must fit the structure's length.</summary>
    public static NfitFlushHint Read(ReadOnlySpan<byte> s)
    {
        int count = BinaryPrimitives.ReadUInt16LittleEndian(s[CountOffset..]);
        if (AddressesOffset + 8 * count > s.Length)
            throw new NfitFormatException($"flush hint claims {count} addresses but is only {s.Length} bytes");
        var addresses = new ulong[count];
        for (int i = 0; i < count; i++)
            addresses[i] = BinaryPrimitives.ReadUInt64LittleEndian(s[(AddressesOffset + 8 * i)..]);
        return new NfitFlushHint(BinaryPrimitives.ReadUInt32LittleEndian(s[DeviceHandleOffset..]), addresses);
    }
}
