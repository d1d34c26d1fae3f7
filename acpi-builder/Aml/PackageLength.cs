namespace XenVnvdimm.Acpi.Aml;

/// <summary>
/// AML PkgLength (ACPI 6.4 §20.2.4): the length of a package including the PkgLength bytes
/// themselves, in 1 to 4 bytes. One byte holds up to 63; longer forms put the byte count - 1
/// in bits 7:6 of the lead byte, the low nibble in bits 3:0, and the rest in following bytes.
/// </summary>
public static class PackageLength
{
    /// <summary>Largest encodable package length (28 bits).</summary>
    public const int Max = (1 << 28) - 1;

    /// <summary>Appends the PkgLength for a body of <paramref name="bodyLength"/> bytes.</summary>
    public static void Encode(List<byte> output, int bodyLength)
    {
        int total = bodyLength + 1;
        if (total <= 0x3F)
        {
            output.Add((byte)total);
            return;
        }
        int extra = bodyLength + 2 < (1 << 12) ? 1 : bodyLength + 3 < (1 << 20) ? 2 : 3;
        EncodeValue(output, bodyLength + 1 + extra);
    }

    /// <summary>
    /// Appends <paramref name="value"/> in PkgLength form without counting the encoding itself
    /// (field-unit widths use this form).
    /// </summary>
    public static void EncodeValue(List<byte> output, int value)
    {
        if (value is < 0 or > Max)
            throw new ArgumentOutOfRangeException(nameof(value), $"{value} does not fit a 28-bit PkgLength");
        if (value <= 0x3F)
        {
            output.Add((byte)value);
            return;
        }
        int extra = value < (1 << 12) ? 1 : value < (1 << 20) ? 2 : 3;
        output.Add((byte)((extra << 6) | (value & 0x0F)));
        for (int i = 0; i < extra; i++)
            output.Add((byte)(value >> (4 + 8 * i)));
    }

    /// <summary>Decodes a PkgLength at the start of <paramref name="data"/>: (value, bytes used).</summary>
    public static (int Value, int Size) Decode(ReadOnlySpan<byte> data)
    {
        int lead = data[0];
        int extra = lead >> 6;
        if (extra == 0)
            return (lead & 0x3F, 1);
        int value = lead & 0x0F;
        for (int i = 0; i < extra; i++)
            value |= data[1 + i] << (4 + 8 * i);
        return (value, 1 + extra);
    }
}
