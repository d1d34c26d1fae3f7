using System.Text;

namespace XenVnvdimm.XenStore.Wire;

/// <summary>Builds and splits payloads made of NUL-terminated strings (and an optional binary tail).</summary>
public static class XsPayload
{
    /// <summary>The "OK\0" payload of a successful request without data.</summary>
    public static ReadOnlyMemory<byte> Ok { get; } = "OK\0"u8.ToArray();

    /// <summary>Each string followed by a NUL.</summary>
    public static byte[] Strings(params ReadOnlySpan<string> strings)
    {
        int length = 0;
        foreach (var s in strings)
            length += Encoding.UTF8.GetByteCount(s) + 1;
        var buffer = new byte[length];
        int at = 0;
        foreach (var s in strings)
        {
            at += Encoding.UTF8.GetBytes(s, buffer.AsSpan(at));
            buffer[at++] = 0;
        }
        return buffer;
    }

    /// <summary>A NUL-terminated string followed by raw bytes (WRITE's <c>path|value</c>).</summary>
    public static byte[] StringThenBytes(string first, ReadOnlySpan<byte> tail)
    {
        int head = Encoding.UTF8.GetByteCount(first);
        var buffer = new byte[head + 1 + tail.Length];
        Encoding.UTF8.GetBytes(first, buffer);
        tail.CopyTo(buffer.AsSpan(head + 1));
        return buffer;
    }

    /// <summary>
    /// Splits a payload into its NUL-terminated strings. Bytes after the last NUL are an
    /// unterminated string; <paramref name="unterminated"/> receives them (null when none).
    /// </summary>
    public static List<string> Split(ReadOnlySpan<byte> payload, out string? unterminated)
    {
        var result = new List<string>();
        while (!payload.IsEmpty)
        {
            int nul = payload.IndexOf((byte)0);
            if (nul < 0)
            {
                unterminated = Encoding.UTF8.GetString(payload);
                return result;
            }
            result.Add(Encoding.UTF8.GetString(payload[..nul]));
            payload = payload[(nul + 1)..];
        }
        unterminated = null;
        return result;
    }

    /// <summary>The payload as text without its trailing NUL (replies such as a transaction id).</summary>
    public static string TrimmedString(ReadOnlySpan<byte> payload)
    {
        int nul = payload.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? payload : payload[..nul]);
    }
}
