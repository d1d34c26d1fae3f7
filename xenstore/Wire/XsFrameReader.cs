namespace XenVnvdimm.XenStore.Wire;

/// <summary>Reads whole messages from a byte stream, enforcing the payload limit before allocating.</summary>
public static class XsFrameReader
{
    /// <summary>
    /// Reads one message. Returns null when the stream ends cleanly between messages; throws
    /// <see cref="XenStoreProtocolException"/> on a truncated header or payload or a length above
    /// <see cref="XsLimits.PayloadMax"/>. The type is not checked: callers decide what an unknown type means.
    /// </summary>
    public static async ValueTask<XsMessage?> ReadAsync(Stream stream, byte[] headerBuffer, CancellationToken cancellationToken)
    {
        int got = await stream.ReadAtLeastAsync(headerBuffer.AsMemory(0, XsHeader.Size), XsHeader.Size, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (got == 0)
            return null;
        if (got < XsHeader.Size)
            throw new XenStoreProtocolException($"stream ended inside a message header ({got} of {XsHeader.Size} bytes)");
        var header = XsHeader.Read(headerBuffer);
        if (header.Length > XsLimits.PayloadMax)
            throw new XenStoreProtocolException($"payload length {header.Length} exceeds {XsLimits.PayloadMax} (type {(uint)header.Type}, req_id {header.RequestId})");
        var payload = header.Length == 0 ? [] : new byte[header.Length];
        if (payload.Length > 0)
        {
            got = await stream.ReadAtLeastAsync(payload, payload.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (got < payload.Length)
                throw new XenStoreProtocolException($"stream ended inside a payload ({got} of {payload.Length} bytes)");
        }
        return new XsMessage(header.Type, header.RequestId, header.TransactionId, payload);
    }

    /// <summary>Blocking twin of <see cref="ReadAsync"/>, for a dedicated reader thread.</summary>
    public static XsMessage? Read(Stream stream, byte[] headerBuffer)
    {
        int got = stream.ReadAtLeast(headerBuffer.AsSpan(0, XsHeader.Size), XsHeader.Size, throwOnEndOfStream: false);
        if (got == 0)
            return null;
        if (got < XsHeader.Size)
            throw new XenStoreProtocolException($"stream ended inside a message header ({got} of {XsHeader.Size} bytes)");
        var header = XsHeader.Read(headerBuffer);
        if (header.Length > XsLimits.PayloadMax)
            throw new XenStoreProtocolException($"payload length {header.Length} exceeds {XsLimits.PayloadMax} (type {(uint)header.Type}, req_id {header.RequestId})");
        var payload = header.Length == 0 ? [] : new byte[header.Length];
        if (payload.Length > 0)
        {
            got = stream.ReadAtLeast(payload, payload.Length, throwOnEndOfStream: false);
            if (got < payload.Length)
                throw new XenStoreProtocolException($"stream ended inside a payload ({got} of {payload.Length} bytes)");
        }
        return new XsMessage(header.Type, header.RequestId, header.TransactionId, payload);
    }
}
