using System.Buffers.Binary;

namespace XenVnvdimm.Acpi.Nfit;

// ACPI 6.4 §5.2.25.3 NVDIMM Region Mapping Structure (memory device to SPA map).
/// <summary>Maps one NVDIMM (by device handle) into an SPA range through a control region.</summary>
/// <param name="DeviceHandle">NFIT device handle; equals the _ADR of the NVDIMM's ACPI device.</param>
/// <param name="PhysicalId">SMBIOS physical id of the DIMM.</param>
/// <param name="RegionId">Region id within the DIMM.</param>
/// <param name="SpaRangeIndex">Index of the SPA range this DIMM contributes to.</param>
/// <param name="ControlRegionIndex">Index of the DIMM's control region (DCR).</param>
/// <param name="RegionSize">Bytes this DIMM contributes.</param>
/// <param name="RegionOffset">Offset of this DIMM's part within the SPA range.</param>
/// <param name="DpaBase">Device physical address of the region.</param>
/// <param name="InterleaveIndex">Interleave structure index (0 = none).</param>
/// <param name="InterleaveWays">Number of interleave ways (1 = none).</param>
/// <param name="Flags">State flags; bit 3 (not armed) makes the guest map the region read-only.</param>
public sealed record NfitMemoryDeviceMap(
    uint DeviceHandle,
    ushort PhysicalId,
    ushort RegionId,
    ushort SpaRangeIndex,
    ushort ControlRegionIndex,
    ulong RegionSize,
    ulong RegionOffset,
    ulong DpaBase,
    ushort InterleaveIndex,
    ushort InterleaveWays,
    ushort Flags) : INfitStructure
{
    /// <summary>Structure type 1.</summary>
    public const ushort StructureType = 1;

    /// <summary>Encoded size.</summary>
    public const int Size = 48;

    /// <summary>Flag bit 3: the device is not armed (writes may not persist).</summary>
    public const ushort FlagNotArmed = 1 << 3;

    internal const int DeviceHandleOffset = 4;
    internal const int PhysicalIdOffset = 8;
    internal const int RegionIdOffset = 10;
    internal const int SpaRangeIndexOffset = 12;
    internal const int ControlRegionIndexOffset = 14;
    internal const int RegionSizeOffset = 16;
    internal const int RegionOffsetOffset = 24;
    internal const int DpaBaseOffset = 32;
    internal const int InterleaveIndexOffset = 40;
    internal const int InterleaveWaysOffset = 42;
    internal const int FlagsOffset = 44;

    /// <inheritdoc/>
    public ushort Type => StructureType;

    int INfitStructure.Length => Size;

    /// <inheritdoc/>
    public void Write(Span<byte> d)
    {
        d[..Size].Clear();
        NfitField.WriteHeader(d, StructureType, Size);
        BinaryPrimitives.WriteUInt32LittleEndian(d[DeviceHandleOffset..], DeviceHandle);
        BinaryPrimitives.WriteUInt16LittleEndian(d[PhysicalIdOffset..], PhysicalId);
        BinaryPrimitives.WriteUInt16LittleEndian(d[RegionIdOffset..], RegionId);
        BinaryPrimitives.WriteUInt16LittleEndian(d[SpaRangeIndexOffset..], SpaRangeIndex);
        BinaryPrimitives.WriteUInt16LittleEndian(d[ControlRegionIndexOffset..], ControlRegionIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(d[RegionSizeOffset..], RegionSize);
        BinaryPrimitives.WriteUInt64LittleEndian(d[RegionOffsetOffset..], RegionOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(d[DpaBaseOffset..], DpaBase);
        BinaryPrimitives.WriteUInt16LittleEndian(d[InterleaveIndexOffset..], InterleaveIndex);
        BinaryPrimitives.WriteUInt16LittleEndian(d[InterleaveWaysOffset..], InterleaveWays);
        BinaryPrimitives.WriteUInt16LittleEndian(d[FlagsOffset..], Flags);
    }

    /// <summary>Decodes a structure of at least <see cref="Size"/> bytes.</summary>
    public static NfitMemoryDeviceMap Read(ReadOnlySpan<byte> s) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(s[DeviceHandleOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(s[PhysicalIdOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(s[RegionIdOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(s[SpaRangeIndexOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(s[ControlRegionIndexOffset..]),
        BinaryPrimitives.ReadUInt64LittleEndian(s[RegionSizeOffset..]),
        BinaryPrimitives.ReadUInt64LittleEndian(s[RegionOffsetOffset..]),
        BinaryPrimitives.ReadUInt64LittleEndian(s[DpaBaseOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(s[InterleaveIndexOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(s[InterleaveWaysOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(s[FlagsOffset..]));
}
