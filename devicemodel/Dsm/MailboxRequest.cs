using System.Buffers.Binary;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.DeviceModel.Dsm;

/// <summary>
/// A private copy of one request from the mailbox page. The page is guest memory the guest may
/// change while we look at it, so every field is read from the page exactly once, here, and all
/// validation works on this copy (no time-of-check/time-of-use gap).
/// </summary>
internal readonly ref struct MailboxRequest
{
    public uint Command { get; init; }
    public uint Handle { get; init; }
    public uint Revision { get; init; }
    public uint Function { get; init; }
    public uint Family { get; init; }

    /// <summary>The input length as the guest wrote it; may exceed <see cref="P.DataSize"/>.</summary>
    public uint InputLength { get; init; }

    /// <summary>The copied input: the first min(<see cref="InputLength"/>, data size) bytes.</summary>
    public ReadOnlySpan<byte> Input { get; init; }

    /// <summary>True when the guest claimed more input than the data area holds.</summary>
    public bool InputOverflows => InputLength > P.DataSize;

    /// <summary>Copies header and input out of <paramref name="page"/> into <paramref name="inputCopy"/>.</summary>
    public static MailboxRequest Copy(ReadOnlySpan<byte> page, Span<byte> inputCopy)
    {
        // One bulk copy of the header: each field is then read from private memory.
        Span<byte> header = stackalloc byte[P.DataOffset - P.CommandOffset];
        page.Slice(P.CommandOffset, header.Length).CopyTo(header);
        uint inputLength = Field(header, P.InputLengthOffset);
        int copied = (int)Math.Min(inputLength, (uint)P.DataSize);
        page.Slice(P.DataOffset, copied).CopyTo(inputCopy);
        return new MailboxRequest
        {
            Command = Field(header, P.CommandOffset),
            Handle = Field(header, P.HandleOffset),
            Revision = Field(header, P.RevisionOffset),
            Function = Field(header, P.FunctionOffset),
            Family = Field(header, P.FamilyOffset),
            InputLength = inputLength,
            Input = inputCopy[..copied],
        };
    }

    private static uint Field(ReadOnlySpan<byte> header, int pageOffset)
        => BinaryPrimitives.ReadUInt32LittleEndian(header[(pageOffset - P.CommandOffset)..]);
}
