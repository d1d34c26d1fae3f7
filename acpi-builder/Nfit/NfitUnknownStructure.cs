namespace XenVnvdimm.Acpi.Nfit;

/// <summary>A sub-structure type this library does not decode (kept raw so a table round-trips).</summary>
/// <param name="Type">Structure type.</param>
/// <param name="Bytes">The whole structure, type/length prefix included.</param>
public sealed record NfitUnknownStructure(ushort Type, byte[] Bytes) : INfitStructure
{
    /// <inheritdoc/>
    public int Length => Bytes.Length;

    /// <inheritdoc/>
    public void Write(Span<byte> destination) => Bytes.CopyTo(destination);
}
