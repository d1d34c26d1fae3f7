using System.Buffers.Binary;
using System.IO.Hashing;

namespace XenVnvdimm.DeviceModel.Labels;

/// <summary>
/// The one-record write-ahead journal of a <see cref="FileLabelStore"/>:
/// {u64 magic "XVLJRNL2", u64 label size, u32 offset, u32 length, data[length], XXH128 of all
/// that}. The hash makes a torn record (a crash while it was being written) unrecognisable; a
/// record is only ever the last write begun, so replaying an intact one is idempotent. A
/// non-cryptographic hash is enough against tearing and keeps the program free of libssl.
/// </summary>
internal static class LabelJournal
{
    /// <summary>"XVLJRNL2" as a little-endian u64 (version 1 carried SHA-256 and is ignored as torn).</summary>
    public const ulong Magic = 0x324C4E524A4C5658;
    public const int HeaderSize = 24;
    public const int HashSize = 16;

    /// <summary>Bytes of a record carrying <paramref name="length"/> bytes of data.</summary>
    public static int RecordSize(int length) => HeaderSize + length + HashSize;

    /// <summary>Encodes the record for a write into <paramref name="record"/> (exactly <see cref="RecordSize"/> bytes).</summary>
    public static void Encode(Span<byte> record, long labelSize, int offset, ReadOnlySpan<byte> data)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(record, Magic);
        BinaryPrimitives.WriteInt64LittleEndian(record[8..], labelSize);
        BinaryPrimitives.WriteInt32LittleEndian(record[16..], offset);
        BinaryPrimitives.WriteInt32LittleEndian(record[20..], data.Length);
        data.CopyTo(record[HeaderSize..]);
        int body = HeaderSize + data.Length;
        XxHash128.Hash(record[..body], record.Slice(body, HashSize));
    }

    /// <summary>
    /// Decodes a record read from the start of the journal file; false when it is absent, torn,
    /// for a label area of another size, or out of range.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> journal, long labelSize, out int offset, out ReadOnlySpan<byte> data)
    {
        offset = 0;
        data = default;
        if (journal.Length < HeaderSize + HashSize || BinaryPrimitives.ReadUInt64LittleEndian(journal) != Magic)
            return false;
        if (BinaryPrimitives.ReadInt64LittleEndian(journal[8..]) != labelSize)
            return false;
        int off = BinaryPrimitives.ReadInt32LittleEndian(journal[16..]);
        int len = BinaryPrimitives.ReadInt32LittleEndian(journal[20..]);
        if (off < 0 || len < 0 || (long)off + len > labelSize || (long)HeaderSize + len + HashSize > journal.Length)
            return false;
        int body = HeaderSize + len;
        Span<byte> hash = stackalloc byte[HashSize];
        XxHash128.Hash(journal[..body], hash);
        if (!hash.SequenceEqual(journal.Slice(body, HashSize)))
            return false;
        offset = off;
        data = journal.Slice(HeaderSize, len);
        return true;
    }
}
