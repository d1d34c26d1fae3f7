using System.Buffers.Binary;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.Tests.Dsm;

/// <summary>
/// A mailbox page as the guest's AML fills it (offsets from the MailboxProtocol contract), placed
/// between two guard zones so a test can prove the service never touches a byte outside it.
/// </summary>
internal sealed class Mailbox
{
    public const int Guard = 4096;
    public const byte GuardByte = 0xA5;
    private static readonly byte[] s_guardPattern = Enumerable.Repeat(GuardByte, Guard).ToArray();

    public byte[] Buffer { get; } = new byte[Guard + P.PageSize + Guard];

    public Mailbox()
    {
        Buffer.AsSpan(0, Guard).Fill(GuardByte);
        Buffer.AsSpan(Guard + P.PageSize).Fill(GuardByte);
    }

    /// <summary>Exactly the page, as the service gets it.</summary>
    public Span<byte> Page => Buffer.AsSpan(Guard, P.PageSize);

    public bool GuardsIntact =>
        Buffer.AsSpan(0, Guard).SequenceEqual(s_guardPattern) && Buffer.AsSpan(Guard + P.PageSize).SequenceEqual(s_guardPattern);

    public uint this[int offset]
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(Page[offset..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(Page[offset..], value);
    }

    /// <summary>Writes a request the way XCAL does; <paramref name="inputLength"/> overrides the honest length.</summary>
    public void Request(uint command, uint handle, uint revision, uint function, uint family, ReadOnlySpan<byte> input,
        uint? inputLength = null, uint state = 1)
    {
        this[P.CommandOffset] = command;
        this[P.HandleOffset] = handle;
        this[P.RevisionOffset] = revision;
        this[P.FunctionOffset] = function;
        this[P.FamilyOffset] = family;
        this[P.InputLengthOffset] = inputLength ?? (uint)input.Length;
        Page.Slice(P.DataOffset, P.DataSize).Clear();
        input.CopyTo(Page[P.DataOffset..]);
        this[P.OutputLengthOffset] = 0;
        this[P.StateOffset] = state;
    }

    public uint State => this[P.StateOffset];
    public uint OutputLength => this[P.OutputLengthOffset];
    public byte[] Output => Page.Slice(P.DataOffset, (int)Math.Min(OutputLength, (uint)P.DataSize)).ToArray();
    /// <summary>The leading u32 of the output (the status of every non-bitmap answer).</summary>
    public uint Status => BinaryPrimitives.ReadUInt32LittleEndian(Page[P.DataOffset..]);

    /// <summary>Little-endian u32 words, for building inputs.</summary>
    public static byte[] Words(params uint[] words)
    {
        var b = new byte[words.Length * 4];
        for (int i = 0; i < words.Length; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(i * 4), words[i]);
        return b;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
