namespace XenVnvdimm.Acpi.Tables;

/// <summary>ACPI table checksum: all bytes of a valid table sum to zero modulo 256.</summary>
public static class Checksum
{
    /// <summary>The byte sum of <paramref name="data"/> modulo 256.</summary>
    public static byte Sum(ReadOnlySpan<byte> data)
    {
        byte sum = 0;
        foreach (byte b in data)
            sum += b;
        return sum;
    }

    /// <summary>True when the table's bytes sum to zero.</summary>
    public static bool IsValid(ReadOnlySpan<byte> table) => Sum(table) == 0;
}
