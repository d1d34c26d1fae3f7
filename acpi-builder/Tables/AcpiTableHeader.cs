namespace XenVnvdimm.Acpi.Tables;

/// <summary>The identity fields of an ACPI system description table header (ACPI 6.4 §5.2.6).</summary>
/// <param name="Signature">Four ASCII characters, e.g. "NFIT" or "SSDT".</param>
/// <param name="Revision">Table revision.</param>
/// <param name="OemId">Up to six ASCII characters.</param>
/// <param name="OemTableId">Up to eight ASCII characters.</param>
/// <param name="OemRevision">OEM revision number.</param>
/// <param name="CreatorId">Four ASCII characters naming the tool that built the table.</param>
/// <param name="CreatorRevision">Revision of that tool.</param>
public sealed record AcpiTableHeader(
    string Signature,
    byte Revision,
    string OemId = "XENVND",
    string OemTableId = "XENVNVDM",
    uint OemRevision = 1,
    string CreatorId = "XVND",
    uint CreatorRevision = 1)
{
    /// <summary>Size of the standard header in bytes.</summary>
    public const int Size = 36;

    // Offsets within the header (ACPI 6.4 Table 5.4).
    internal const int SignatureOffset = 0;
    internal const int LengthOffset = 4;
    internal const int RevisionOffset = 8;
    internal const int ChecksumOffset = 9;
    internal const int OemIdOffset = 10;
    internal const int OemTableIdOffset = 16;
    internal const int OemRevisionOffset = 24;
    internal const int CreatorIdOffset = 28;
    internal const int CreatorRevisionOffset = 32;
}
