using System.Buffers.Binary;
using System.Text;

namespace XenVnvdimm.Acpi.Aml;

/// <summary>An integer constant in its smallest encoding (Zero, One, Ones, Byte/Word/DWord/QWord).</summary>
/// <param name="Value">The value.</param>
public sealed record AmlInteger(ulong Value) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        switch (Value)
        {
            case 0: o.Add(0x00); break;                 // ZeroOp
            case 1: o.Add(0x01); break;                 // OneOp
            case <= byte.MaxValue: o.Add(0x0A); o.Add((byte)Value); break;
            case <= ushort.MaxValue: o.Add(0x0B); Append(o, Value, 2); break;
            case <= uint.MaxValue: o.Add(0x0C); Append(o, Value, 4); break;
            default: o.Add(0x0E); Append(o, Value, 8); break;
        }
    }

    internal static void Append(List<byte> o, ulong value, int size)
    {
        for (int i = 0; i < size; i++)
            o.Add((byte)(value >> (8 * i)));
    }
}

/// <summary>OnesOp: all bits set at the table's integer width.</summary>
public sealed record AmlOnes : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o) => o.Add(0xFF);
}

/// <summary>A string constant (ASCII, NUL-terminated).</summary>
/// <param name="Value">ASCII text without NUL characters.</param>
public sealed record AmlString(string Value) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        if (!Ascii.IsValid(Value) || Value.Contains('\0'))
            throw new ArgumentException($"AML string '{Value}' must be ASCII without NUL");
        o.Add(0x0D);
        o.AddRange(Encoding.ASCII.GetBytes(Value));
        o.Add(0x00);
    }
}

/// <summary>A buffer: <c>Buffer (Size) { Bytes }</c>; a computed size is allowed.</summary>
/// <param name="Size">BufferSize term; null means the length of <paramref name="Bytes"/>.</param>
/// <param name="Bytes">Initializer bytes.</param>
public sealed record AmlBuffer(AmlNode? Size, byte[] Bytes) : AmlNode
{
    /// <summary>A buffer initialized with exactly these bytes.</summary>
    public AmlBuffer(params byte[] bytes) : this(null, bytes) { }

    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        var body = new List<byte>();
        (Size ?? new AmlInteger((ulong)Bytes.Length)).Encode(body);
        body.AddRange(Bytes);
        EncodePackage(o, [0x11], body);
    }

    /// <summary>ToUUID("..."): the 16-byte buffer of a UUID in ACPI's mixed-endian order.</summary>
    public static AmlBuffer Uuid(string uuid)
    {
        var bytes = new byte[16];
        new Guid(uuid).TryWriteBytes(bytes);
        return new AmlBuffer(bytes);
    }

    /// <summary>A buffer holding one little-endian DWORD.</summary>
    public static AmlBuffer DWord(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return new AmlBuffer(bytes);
    }
}

/// <summary>A fixed package: <c>Package () { elements }</c>.</summary>
/// <param name="Elements">Package elements (at most 255).</param>
public sealed record AmlPackage(params AmlNode[] Elements) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        if (Elements.Length > 255)
            throw new ArgumentException("a fixed Package holds at most 255 elements; use VarPackage");
        var body = new List<byte> { (byte)Elements.Length };
        body.AddRange(EncodeAll(Elements));
        EncodePackage(o, [0x12], body);
    }
}
