using System.Buffers.Binary;

namespace XenVnvdimm.Acpi.Nfit;

// ACPI 6.4 §5.2.25.9 Platform Capabilities Structure.
/// <summary>What the platform flushes on power loss (CPU caches, memory controller buffers).</summary>
/// <param name="HighestValidCapability">Highest capability bit that is valid.</param>
/// <param name="Capabilities">Bit 0 CPU cache flush on power loss, bit 1 memory controller flush.</param>
public sealed record NfitPlatformCapabilities(byte HighestValidCapability, uint Capabilities) : INfitStructure
{
    /// <summary>Structure type 7.</summary>
    public const ushort StructureType = 7;

    /// <summary>Encoded size.</summary>
    public const int Size = 16;

    /// <summary>CPU caches are flushed to persistence on power loss.</summary>
    public const uint CpuCacheFlush = 1 << 0;

    /// <summary>Memory controller buffers are flushed to persistence on power loss.</summary>
    public const uint MemoryControllerFlush = 1 << 1;

    internal const int HighestValidCapabilityOffset = 4;
    internal const int CapabilitiesOffset = 8;

    /// <inheritdoc/>
    public ushort Type => StructureType;

    int INfitStructure.Length => Size;

    /// <inheritdoc/>
    public void Write(Span<byte> d)
    {
        d[..Size].Clear();
        NfitField.WriteHeader(d, StructureType, Size);
        d[HighestValidCapabilityOffset] = HighestValidCapability;
        BinaryPrimitives.WriteUInt32LittleEndian(d[CapabilitiesOffset..], Capabilities);
    }

    /// <summary>Decodes a structure of at least <see cref="Size"/> bytes.</summary>
    public static NfitPlatformCapabilities Read(ReadOnlySpan<byte> s) => new(
        s[HighestValidCapabilityOffset],
        BinaryPrimitives.ReadUInt32LittleEndian(s[CapabilitiesOffset..]));
}
