using System.Globalization;

namespace XenVnvdimm.DeviceModel.Config;

/// <summary>Parses sizes and addresses: decimal or 0x-hex, with optional K/M/G/T binary suffixes.</summary>
public static class SizeParser
{
    /// <summary>Parses <paramref name="text"/>; <paramref name="what"/> names the value in the error.</summary>
    public static ulong Parse(string text, string what)
    {
        if (!TryParse(text, out ulong value))
            throw new UserErrorException($"{what}: '{text}' is not a size (decimal or 0x hex, optional K/M/G/T suffix)");
        return value;
    }

    /// <summary>Parses without throwing.</summary>
    public static bool TryParse(string text, out ulong value)
    {
        value = 0;
        string t = text.Trim();
        if (t.Length == 0)
            return false;
        int shift = char.ToUpperInvariant(t[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        if (shift != 0)
            t = t[..^1];
        if (t.EndsWith("i", StringComparison.Ordinal))
            return false;
        bool ok = t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(t.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!ok || t.Length == 0)
            return false;
        if (shift != 0)
        {
            if (value > (ulong.MaxValue >> shift))
                return false;
            value <<= shift;
        }
        return true;
    }

    /// <summary>Formats a byte count with the largest exact binary suffix.</summary>
    public static string Format(ulong bytes)
    {
        foreach (var (shift, suffix) in new[] { (40, "T"), (30, "G"), (20, "M"), (10, "K") })
            if (bytes != 0 && bytes % (1UL << shift) == 0)
                return $"{bytes >> shift}{suffix}";
        return bytes.ToString(CultureInfo.InvariantCulture);
    }
}
