using System.Buffers.Binary;

namespace XenVnvdimm.Acpi.Nfit;

// ACPI 6.4 §5.2.25.2 System Physical Address (SPA) Range Structure.
/// <summary>An SPA range: a guest-physical range and what kind of memory it is.</summary>
/// <param name="RangeIndex">Non-zero index referenced by memory-device maps.</param>
/// <param name="Flags">Bit 0 control region for hot-add, bit 1 proximity domain valid.</param>
/// <param name="ProximityDomain">NUMA proximity domain of the range.</param>
/// <param name="TypeGuid">Address range type, e.g. <see cref="PersistentMemoryGuid"/>.</param>
/// <param name="Base">System physical base address.</param>
/// <param name="Length">Length in bytes.</param>
/// <param name="MemoryAttributes">EFI memory attributes of the range.</param>
public sealed record NfitSpaRange(
    ushort RangeIndex,
    ushort Flags,
    uint ProximityDomain,
    Guid TypeGuid,
    ulong Base,
    ulong Length,
    ulong MemoryAttributes) : INfitStructure
{
    /// <summary>Structure type 0.</summary>
    public const ushort StructureType = 0;

    /// <summary>Encoded size (without the ACPI 6.4 location cookie).</summary>
    public const int Size = 56;

    /// <summary>Persistent-memory address range type GUID.</summary>
    public static readonly Guid PersistentMemoryGuid = new("66f0d379-b4f3-4074-ac43-0d3318b78cdb");

    /// <summary>Flag: control region is for hot-add / the range may be hot-added.</summary>
    public const ushort FlagAddOnlineOperationOnly = 1 << 0;

    /// <summary>Flag: <see cref="ProximityDomain"/> is valid.</summary>
    public const ushort FlagProximityDomainValid = 1 << 1;

    /// <summary>EFI_MEMORY_WB.</summary>
    public const ulong EfiMemoryWb = 0x8;

    /// <summary>EFI_MEMORY_NV.</summary>
    public const ulong EfiMemoryNv = 0x8000;

    internal const int RangeIndexOffset = 4;
    internal const int FlagsOffset = 6;
    internal const int ProximityDomainOffset = 12;
    internal const int TypeGuidOffset = 16;
    internal const int BaseOffset = 32;
    internal const int LengthOffset = 40;
    internal const int MemoryAttributesOffset = 48;

    /// <inheritdoc/>
    public ushort Type => StructureType;

    int INfitStructure.Length => Size;

    /// <summary>True when the range is persistent memory.</summary>
    public bool IsPersistentMemory => TypeGuid == PersistentMemoryGuid;

    /// <inheritdoc/>
    public void Write(Span<byte> d)
    {
        d[..Size].Clear();
        NfitField.WriteHeader(d, StructureType, Size);
        BinaryPrimitives.WriteUInt16LittleEndian(d[RangeIndexOffset..], RangeIndex);
        BinaryPrimitives.WriteUInt16LittleEndian(d[FlagsOffset..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(d[ProximityDomainOffset..], ProximityDomain);
        TypeGuid.TryWriteBytes(d.Slice(TypeGuidOffset, 16));
        BinaryPrimitives.WriteUInt64LittleEndian(d[BaseOffset..], Base);
        BinaryPrimitives.WriteUInt64LittleEndian(d[LengthOffset..], Length);
        BinaryPrimitives.WriteUInt64LittleEndian(d[MemoryAttributesOffset..], MemoryAttributes);
    }

    /// <summary>Decodes a structure of at least <see cref="Size"/> bytes.</summary>
    public static NfitSpaRange Read(ReadOnlySpan<byte> s) => new(
        BinaryPrimitives.ReadUInt16LittleEndian(s[RangeIndexOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(s[FlagsOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(s[ProximityDomainOffset..]),
        new Guid(s.Slice(TypeGuidOffset, 16)),
        BinaryPrimitives.ReadUInt64LittleEndian(s[BaseOffset..]),
        BinaryPrimitives.ReadUInt64LittleEndian(s[LengthOffset..]),
        BinaryPrimitives.ReadUInt64LittleEndian(s[MemoryAttributesOffset..]));
}
