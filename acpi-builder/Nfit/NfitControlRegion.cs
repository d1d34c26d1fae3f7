using System.Buffers.Binary;

namespace XenVnvdimm.Acpi.Nfit;

// ACPI 6.4 §5.2.25.5 NVDIMM Control Region Structure.
/// <summary>
/// Identifies one NVDIMM (vendor, device, serial, interface code). Linux derives the
/// interleave-set cookie from these fields, so they must stay stable across restarts.
/// </summary>
/// <param name="ControlRegionIndex">Non-zero index referenced by memory-device maps.</param>
/// <param name="VendorId">PCI-style vendor id.</param>
/// <param name="DeviceId">Device id.</param>
/// <param name="RevisionId">Revision id.</param>
/// <param name="SubsystemVendorId">Subsystem vendor id.</param>
/// <param name="SubsystemDeviceId">Subsystem device id.</param>
/// <param name="SubsystemRevisionId">Subsystem revision id.</param>
/// <param name="ValidFields">Bit 0: manufacturing location/date valid.</param>
/// <param name="ManufacturingLocation">Manufacturing location.</param>
/// <param name="ManufacturingDate">Manufacturing date.</param>
/// <param name="SerialNumber">Serial number.</param>
/// <param name="FormatInterfaceCode">0x0301: byte-addressable, no energy source.</param>
/// <param name="WindowCount">Number of block control windows (0 for pmem-only DIMMs).</param>
/// <param name="Flags">Control region flags.</param>
public sealed record NfitControlRegion(
    ushort ControlRegionIndex,
    ushort VendorId,
    ushort DeviceId,
    ushort RevisionId,
    ushort SubsystemVendorId,
    ushort SubsystemDeviceId,
    ushort SubsystemRevisionId,
    byte ValidFields,
    byte ManufacturingLocation,
    ushort ManufacturingDate,
    uint SerialNumber,
    ushort FormatInterfaceCode,
    ushort WindowCount,
    ushort Flags) : INfitStructure
{
    /// <summary>Structure type 4.</summary>
    public const ushort StructureType = 4;

    /// <summary>Encoded size with the block-window fields (as Linux and QEMU emit it).</summary>
    public const int Size = 80;

    /// <summary>Encoded size when the block-window fields are omitted (window count 0).</summary>
    public const int ShortSize = 32;

    /// <summary>Byte-addressable persistent memory without energy source.</summary>
    public const ushort FormatByteAddressable = 0x0301;

    internal const int ControlRegionIndexOffset = 4;
    internal const int VendorIdOffset = 6;
    internal const int DeviceIdOffset = 8;
    internal const int RevisionIdOffset = 10;
    internal const int SubsystemVendorIdOffset = 12;
    internal const int SubsystemDeviceIdOffset = 14;
    internal const int SubsystemRevisionIdOffset = 16;
    internal const int ValidFieldsOffset = 18;
    internal const int ManufacturingLocationOffset = 19;
    internal const int ManufacturingDateOffset = 20;
    internal const int SerialNumberOffset = 24;
    internal const int FormatInterfaceCodeOffset = 28;
    internal const int WindowCountOffset = 30;
    internal const int FlagsOffset = 72;

    /// <inheritdoc/>
    public ushort Type => StructureType;

    int INfitStructure.Length => Size;

    /// <inheritdoc/>
    public void Write(Span<byte> d)
    {
        d[..Size].Clear();
        NfitField.WriteHeader(d, StructureType, Size);
        BinaryPrimitives.WriteUInt16LittleEndian(d[ControlRegionIndexOffset..], ControlRegionIndex);
        BinaryPrimitives.WriteUInt16LittleEndian(d[VendorIdOffset..], VendorId);
        BinaryPrimitives.WriteUInt16LittleEndian(d[DeviceIdOffset..], DeviceId);
        BinaryPrimitives.WriteUInt16LittleEndian(d[RevisionIdOffset..], RevisionId);
        BinaryPrimitives.WriteUInt16LittleEndian(d[SubsystemVendorIdOffset..], SubsystemVendorId);
        BinaryPrimitives.WriteUInt16LittleEndian(d[SubsystemDeviceIdOffset..], SubsystemDeviceId);
        BinaryPrimitives.WriteUInt16LittleEndian(d[SubsystemRevisionIdOffset..], SubsystemRevisionId);
        d[ValidFieldsOffset] = ValidFields;
        d[ManufacturingLocationOffset] = ManufacturingLocation;
        BinaryPrimitives.WriteUInt16LittleEndian(d[ManufacturingDateOffset..], ManufacturingDate);
        BinaryPrimitives.WriteUInt32LittleEndian(d[SerialNumberOffset..], SerialNumber);
        BinaryPrimitives.WriteUInt16LittleEndian(d[FormatInterfaceCodeOffset..], FormatInterfaceCode);
        BinaryPrimitives.WriteUInt16LittleEndian(d[WindowCountOffset..], WindowCount);
        BinaryPrimitives.WriteUInt16LittleEndian(d[FlagsOffset..], Flags);
    }

    /// <summary>Decodes a structure of at least <see cref="ShortSize"/> bytes (flags only when 80 bytes).</summary>
    public static NfitControlRegion Read(ReadOnlySpan<byte> s) => new(
        BinaryPrimitives.ReadUInt16LittleEndian(s[ControlRegionIndexOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(s[VendorIdOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(s[DeviceIdOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(s[RevisionIdOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(s[SubsystemVendorIdOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(s[SubsystemDeviceIdOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(s[SubsystemRevisionIdOffset..]),
        s[ValidFieldsOffset],
        s[ManufacturingLocationOffset],
        BinaryPrimitives.ReadUInt16LittleEndian(s[ManufacturingDateOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(s[SerialNumberOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(s[FormatInterfaceCodeOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(s[WindowCountOffset..]),
        s.Length >= Size ? BinaryPrimitives.ReadUInt16LittleEndian(s[FlagsOffset..]) : (ushort)0);
}
