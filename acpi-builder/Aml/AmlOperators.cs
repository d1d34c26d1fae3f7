namespace XenVnvdimm.Acpi.Aml;

/// <summary>
/// A fixed-arity operator: an opcode followed by its operands in order. Targets are operands too
/// (use <see cref="AmlNullTarget"/> to discard a result). The static helpers name each operator.
/// </summary>
/// <param name="Opcode">One or two opcode bytes.</param>
/// <param name="Operands">Operands in encoding order.</param>
public sealed record AmlOp(byte[] Opcode, params AmlNode[] Operands) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o)
    {
        o.AddRange(Opcode);
        foreach (var a in Operands)
            a.Encode(o);
    }

    private static AmlNode T(AmlNode? target) => target ?? AmlNullTarget.Instance;

    /// <summary><c>Store (Source, Target)</c>.</summary>
    public static AmlOp Store(AmlNode source, AmlNode target) => new([0x70], source, target);
    /// <summary><c>Add (A, B, Target)</c>.</summary>
    public static AmlOp Add(AmlNode a, AmlNode b, AmlNode? target = null) => new([0x72], a, b, T(target));
    /// <summary><c>Concatenate (A, B, Target)</c>.</summary>
    public static AmlOp Concatenate(AmlNode a, AmlNode b, AmlNode? target = null) => new([0x73], a, b, T(target));
    /// <summary><c>Subtract (A, B, Target)</c>.</summary>
    public static AmlOp Subtract(AmlNode a, AmlNode b, AmlNode? target = null) => new([0x74], a, b, T(target));
    /// <summary><c>Increment (Target)</c>.</summary>
    public static AmlOp Increment(AmlNode target) => new([0x75], target);
    /// <summary><c>Decrement (Target)</c>.</summary>
    public static AmlOp Decrement(AmlNode target) => new([0x76], target);
    /// <summary><c>Multiply (A, B, Target)</c>.</summary>
    public static AmlOp Multiply(AmlNode a, AmlNode b, AmlNode? target = null) => new([0x77], a, b, T(target));
    /// <summary><c>ShiftLeft (A, B, Target)</c>.</summary>
    public static AmlOp ShiftLeft(AmlNode a, AmlNode b, AmlNode? target = null) => new([0x79], a, b, T(target));
    /// <summary><c>ShiftRight (A, B, Target)</c>.</summary>
    public static AmlOp ShiftRight(AmlNode a, AmlNode b, AmlNode? target = null) => new([0x7A], a, b, T(target));
    /// <summary><c>And (A, B, Target)</c>.</summary>
    public static AmlOp And(AmlNode a, AmlNode b, AmlNode? target = null) => new([0x7B], a, b, T(target));
    /// <summary><c>Or (A, B, Target)</c>.</summary>
    public static AmlOp Or(AmlNode a, AmlNode b, AmlNode? target = null) => new([0x7D], a, b, T(target));
    /// <summary><c>DerefOf (Ref)</c>.</summary>
    public static AmlOp DerefOf(AmlNode reference) => new([0x83], reference);
    /// <summary><c>Notify (Object, Value)</c>.</summary>
    public static AmlOp Notify(AmlNode obj, AmlNode value) => new([0x86], obj, value);
    /// <summary><c>SizeOf (Object)</c>.</summary>
    public static AmlOp SizeOf(AmlNode obj) => new([0x87], obj);
    /// <summary><c>Index (Source, Index, Target)</c>.</summary>
    public static AmlOp Index(AmlNode source, AmlNode index, AmlNode? target = null) => new([0x88], source, index, T(target));
    /// <summary><c>ObjectType (Object)</c>.</summary>
    public static AmlOp ObjectType(AmlNode obj) => new([0x8E], obj);
    /// <summary><c>LAnd (A, B)</c>.</summary>
    public static AmlOp LAnd(AmlNode a, AmlNode b) => new([0x90], a, b);
    /// <summary><c>LOr (A, B)</c>.</summary>
    public static AmlOp LOr(AmlNode a, AmlNode b) => new([0x91], a, b);
    /// <summary><c>LNot (A)</c>.</summary>
    public static AmlOp LNot(AmlNode a) => new([0x92], a);
    /// <summary><c>LEqual (A, B)</c>.</summary>
    public static AmlOp LEqual(AmlNode a, AmlNode b) => new([0x93], a, b);
    /// <summary><c>LGreater (A, B)</c>.</summary>
    public static AmlOp LGreater(AmlNode a, AmlNode b) => new([0x94], a, b);
    /// <summary><c>LLess (A, B)</c>.</summary>
    public static AmlOp LLess(AmlNode a, AmlNode b) => new([0x95], a, b);
    /// <summary><c>LNotEqual (A, B)</c>, encoded as LNot (LEqual (A, B)).</summary>
    public static AmlOp LNotEqual(AmlNode a, AmlNode b) => LNot(LEqual(a, b));
    /// <summary><c>ToBuffer (A, Target)</c>.</summary>
    public static AmlOp ToBuffer(AmlNode a, AmlNode? target = null) => new([0x96], a, T(target));
    /// <summary><c>ToInteger (A, Target)</c>.</summary>
    public static AmlOp ToInteger(AmlNode a, AmlNode? target = null) => new([0x99], a, T(target));
    /// <summary><c>Mid (Source, Index, Length, Target)</c>.</summary>
    public static AmlOp Mid(AmlNode source, AmlNode index, AmlNode length, AmlNode? target = null) => new([0x9E], source, index, length, T(target));
    /// <summary><c>Return (Value)</c>.</summary>
    public static AmlOp Return(AmlNode value) => new([0xA4], value);
    /// <summary><c>Break</c>.</summary>
    public static AmlOp Break() => new([0xA5]);
    /// <summary><c>Sleep (Milliseconds)</c>.</summary>
    public static AmlOp Sleep(AmlNode milliseconds) => new([0x5B, 0x22], milliseconds);
    /// <summary><c>Stall (Microseconds)</c>: a busy wait (ACPI allows at most 100 µs per Stall).</summary>
    public static AmlOp Stall(AmlNode microseconds) => new([0x5B, 0x21], microseconds);
    /// <summary><c>Acquire (Mutex, Timeout)</c>; returns True on timeout.</summary>
    public static AmlOp Acquire(AmlName mutex, ushort timeoutMs) => new([0x5B, 0x23], mutex, new AmlRawBytes((byte)timeoutMs, (byte)(timeoutMs >> 8)));
    /// <summary><c>Release (Mutex)</c>.</summary>
    public static AmlOp Release(AmlName mutex) => new([0x5B, 0x27], mutex);
}

/// <summary>Raw bytes inside an operator encoding (e.g. Acquire's fixed 16-bit timeout).</summary>
/// <param name="Bytes">The bytes.</param>
public sealed record AmlRawBytes(params byte[] Bytes) : AmlNode
{
    /// <inheritdoc/>
    public override void Encode(List<byte> o) => o.AddRange(Bytes);
}
