using System.Text;

namespace XenVnvdimm.Acpi.Aml;

/// <summary>
/// A NameString (ACPI 6.4 §20.2.2): optional root (\) or parent (^) prefixes, then zero or more
/// 4-character segments separated by dots, e.g. <c>\_SB.NVDR</c>, <c>^NV00</c>, <c>MLCK</c>.
/// Segments shorter than 4 characters are padded with '_'.
/// </summary>
/// <param name="Path">The ASL path.</param>
public sealed record AmlName(string Path) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        int i = 0;
        while (i < Path.Length && (Path[i] == '\\' || Path[i] == '^'))
            o.Add((byte)Path[i++]);
        string rest = Path[i..];
        string[] segments = rest.Length == 0 ? [] : rest.Split('.');
        switch (segments.Length)
        {
            case 0: o.Add(0x00); break;                     // NullName
            case 1: break;
            case 2: o.Add(0x2E); break;                     // DualNamePrefix
            default: o.Add(0x2F); o.Add(checked((byte)segments.Length)); break; // MultiNamePrefix
        }
        foreach (var seg in segments)
            o.AddRange(Segment(seg));
    }

    /// <summary>Encodes one NameSeg, validating ASL's character rules.</summary>
    public static byte[] Segment(string seg)
    {
        if (seg.Length is 0 or > 4 || !(char.IsAsciiLetterUpper(seg[0]) || seg[0] == '_')
            || !seg.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_'))
            throw new ArgumentException($"'{seg}' is not a valid AML name segment");
        return Encoding.ASCII.GetBytes(seg.PadRight(4, '_'));
    }

    /// <summary>Implicit conversion from an ASL path string.</summary>
    public static implicit operator AmlName(string path) => new(path);
}

/// <summary>LocalN (0..7).</summary>
/// <param name="Index">Local variable number.</param>
public sealed record AmlLocal(int Index) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o) => o.Add((byte)(0x60 + (Index is >= 0 and <= 7 ? Index : throw new ArgumentOutOfRangeException(nameof(Index)))));
}

/// <summary>ArgN (0..6).</summary>
/// <param name="Index">Argument number.</param>
public sealed record AmlArg(int Index) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o) => o.Add((byte)(0x68 + (Index is >= 0 and <= 6 ? Index : throw new ArgumentOutOfRangeException(nameof(Index)))));
}

/// <summary>The null target: the result of an operator is discarded.</summary>
public sealed record AmlNullTarget : AmlNode
{
    /// <summary>Shared instance.</summary>
    public static readonly AmlNullTarget Instance = new();

    /// <inheritdoc/>
    public override void Encode(List<byte> o) => o.Add(0x00);
}

/// <summary>A method invocation: <c>NAME (args)</c>; the callee's argument count is fixed by its declaration.</summary>
/// <param name="Method">Path of the method.</param>
/// <param name="Args">Arguments.</param>
public sealed record AmlCall(AmlName Method, params AmlNode[] Args) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        Method.Encode(o);
        foreach (var a in Args)
            a.Encode(o);
    }
}
