using System.Runtime.InteropServices;

namespace XenVnvdimm.XenStore.Wire;

/// <summary>
/// The 16-byte header of every xenstore message (<c>struct xsd_sockmsg</c>): type, request id,
/// transaction id and payload length, each a native-endian u32.
/// </summary>
/// <param name="Type">Message type.</param>
/// <param name="RequestId">Request id, echoed by the server in its reply.</param>
/// <param name="TransactionId">Transaction id, 0 outside transactions.</param>
/// <param name="Length">Payload length in bytes.</param>
public readonly record struct XsHeader(XsMessageType Type, uint RequestId, uint TransactionId, uint Length)
{
    /// <summary>Size of the encoded header.</summary>
    public const int Size = 16;

    /// <summary>Encodes the header into the first 16 bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        if (destination.Length < Size)
            throw new ArgumentException("header needs 16 bytes", nameof(destination));
        // The protocol is native-endian: both ends run on the same host.
        MemoryMarshal.Write(destination, (uint)Type);
        MemoryMarshal.Write(destination[4..], RequestId);
        MemoryMarshal.Write(destination[8..], TransactionId);
        MemoryMarshal.Write(destination[12..], Length);
    }

    /// <summary>Decodes a header from the first 16 bytes of <paramref name="source"/>.</summary>
    public static XsHeader Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
            throw new ArgumentException("header needs 16 bytes", nameof(source));
        return new XsHeader(
            (XsMessageType)MemoryMarshal.Read<uint>(source),
            MemoryMarshal.Read<uint>(source[4..]),
            MemoryMarshal.Read<uint>(source[8..]),
            MemoryMarshal.Read<uint>(source[12..]));
    }
}
