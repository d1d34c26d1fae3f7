namespace XenVnvdimm.Acpi.Aml;

/// <summary>Width of a CreateXxxField.</summary>
public enum AmlBufferFieldKind : byte
{
    /// <summary>CreateBitField (bit index).</summary>
    Bit = 0x8D,
    /// <summary>CreateByteField (byte index).</summary>
    Byte = 0x8C,
    /// <summary>CreateWordField (byte index).</summary>
    Word = 0x8B,
    /// <summary>CreateDWordField (byte index).</summary>
    DWord = 0x8A,
    /// <summary>CreateQWordField (byte index).</summary>
    QWord = 0x8F,
}

/// <summary><c>CreateDWordField (Source, Index, Name)</c> and its byte/word/qword/bit siblings.</summary>
/// <param name="Kind">Field width.</param>
/// <param name="Source">Source buffer term.</param>
/// <param name="Index">Byte index (bit index for <see cref="AmlBufferFieldKind.Bit"/>).</param>
/// <param name="Name">Name of the new field.</param>
public sealed record AmlCreateField(AmlBufferFieldKind Kind, AmlNode Source, AmlNode Index, AmlName Name) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        o.Add((byte)Kind);
        Source.Encode(o);
        Index.Encode(o);
        Name.Encode(o);
    }
}

/// <summary><c>CreateField (Source, BitIndex, NumBits, Name)</c>.</summary>
/// <param name="Source">Source buffer term.</param>
/// <param name="BitIndex">Starting bit.</param>
/// <param name="NumBits">Width in bits.</param>
/// <param name="Name">Name of the new field.</param>
public sealed record AmlCreateBitsField(AmlNode Source, AmlNode BitIndex, AmlNode NumBits, AmlName Name) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        o.Add(0x5B); o.Add(0x13);
        Source.Encode(o);
        BitIndex.Encode(o);
        NumBits.Encode(o);
        Name.Encode(o);
    }
}
