namespace XenVnvdimm.Acpi.Aml;

/// <summary>
/// One node of an AML tree. Nodes are small immutable records that encode themselves; a
/// composite encodes its children and then prefixes the package length.
/// </summary>
public abstract record AmlNode
{
    /// <summary>Appends this node's AML encoding.</summary>
    public abstract void Encode(List<byte> output);

    /// <summary>This node's AML encoding.</summary>
    public byte[] ToBytes()
    {
        var output = new List<byte>();
        Encode(output);
        return output.ToArray();
    }

    /// <summary>Encodes a sequence of nodes into a fresh buffer.</summary>
    internal static List<byte> EncodeAll(IEnumerable<AmlNode> nodes)
    {
        var body = new List<byte>();
        foreach (var n in nodes)
            n.Encode(body);
        return body;
    }

    /// <summary>Writes <paramref name="prefix"/>, then PkgLength covering itself and <paramref name="body"/>, then the body.</summary>
    internal static void EncodePackage(List<byte> output, ReadOnlySpan<byte> prefix, List<byte> body)
    {
        output.AddRange(prefix);
        PackageLength.Encode(output, body.Count);
        output.AddRange(body);
    }

    /// <summary>Implicit conversion from an integer constant.</summary>
    public static implicit operator AmlNode(ulong value) => new AmlInteger(value);

    /// <summary>Implicit conversion from an integer constant.</summary>
    public static implicit operator AmlNode(int value) => new AmlInteger(checked((ulong)value));
}
