namespace XenVnvdimm.Acpi.Nfit;

/// <summary>An NFIT (or FIT buffer) that is malformed: wrong signature, length, checksum or structure size.</summary>
public sealed class NfitFormatException : Exception
{
    /// <summary>Creates the exception with a message naming the offending field.</summary>
    public NfitFormatException(string message) : base(message) { }
}
