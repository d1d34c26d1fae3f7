namespace XenVnvdimm.XenStore.Wire;

/// <summary>One decoded xenstore message: header plus payload.</summary>
/// <param name="Type">Message type.</param>
/// <param name="RequestId">Request id.</param>
/// <param name="TransactionId">Transaction id.</param>
/// <param name="Payload">Payload bytes (at most <see cref="XsLimits.PayloadMax"/> when valid).</param>
public sealed record XsMessage(XsMessageType Type, uint RequestId, uint TransactionId, ReadOnlyMemory<byte> Payload)
{
    /// <summary>The message's header.</summary>
    public XsHeader Header => new(Type, RequestId, TransactionId, (uint)Payload.Length);

    /// <summary>Encodes header and payload into one buffer, so a single write sends a whole message.</summary>
    public byte[] Encode()
    {
        var frame = new byte[XsHeader.Size + Payload.Length];
        Header.Write(frame);
        Payload.Span.CopyTo(frame.AsSpan(XsHeader.Size));
        return frame;
    }
}
