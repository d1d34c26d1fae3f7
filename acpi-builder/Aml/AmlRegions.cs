namespace XenVnvdimm.Acpi.Aml;

/// <summary>Operation region address spaces used here.</summary>
public enum AmlRegionSpace : byte
{
    /// <summary>SystemMemory.</summary>
    SystemMemory = 0x00,
    /// <summary>SystemIO.</summary>
    SystemIO = 0x01,
}

/// <summary><c>OperationRegion (Name, Space, Offset, Length)</c>.</summary>
/// <param name="Name">Region name.</param>
/// <param name="Space">Address space.</param>
/// <param name="Offset">Region offset term.</param>
/// <param name="Length">Region length term.</param>
public sealed record AmlOperationRegion(AmlName Name, AmlRegionSpace Space, AmlNode Offset, AmlNode Length) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        o.Add(0x5B); o.Add(0x80);
        Name.Encode(o);
        o.Add((byte)Space);
        Offset.Encode(o);
        Length.Encode(o);
    }
}

/// <summary>Field access type (bits 3:0 of FieldFlags).</summary>
public enum AmlFieldAccess : byte
{
    /// <summary>AnyAcc.</summary>
    Any = 0,
    /// <summary>ByteAcc.</summary>
    Byte = 1,
    /// <summary>WordAcc.</summary>
    Word = 2,
    /// <summary>DWordAcc.</summary>
    DWord = 3,
    /// <summary>QWordAcc.</summary>
    QWord = 4,
    /// <summary>BufferAcc.</summary>
    Buffer = 5,
}

/// <summary>One element of a field list.</summary>
public abstract record AmlFieldElement
{
    internal abstract void Encode(List<byte> o);
}

/// <summary>A named field unit of <paramref name="Bits"/> bits.</summary>
/// <param name="Name">4-character name.</param>
/// <param name="Bits">Width in bits.</param>
public sealed record AmlNamedField(string Name, int Bits) : AmlFieldElement
{
    internal override void Encode(List<byte> o)
    {
        o.AddRange(AmlName.Segment(Name));
        PackageLength.EncodeValue(o, Bits);
    }
}

/// <summary>Skips <paramref name="Bits"/> bits: <c>Offset (n)</c> / <c>, n</c> in ASL.</summary>
/// <param name="Bits">Bits to skip.</param>
public sealed record AmlReservedField(int Bits) : AmlFieldElement
{
    internal override void Encode(List<byte> o)
    {
        o.Add(0x00);
        PackageLength.EncodeValue(o, Bits);
    }
}

/// <summary><c>Field (Region, Access, NoLock, Preserve) { elements }</c>.</summary>
/// <param name="Region">Operation region name.</param>
/// <param name="Access">Access width.</param>
/// <param name="Elements">Field units in bit order.</param>
public sealed record AmlField(AmlName Region, AmlFieldAccess Access, params AmlFieldElement[] Elements) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        var body = new List<byte>();
        Region.Encode(body);
        body.Add((byte)Access); // NoLock (bit 4 = 0), Preserve (bits 6:5 = 0)
        foreach (var e in Elements)
            e.Encode(body);
        EncodePackage(o, [0x5B, 0x81], body);
    }
}
