using XenVnvdimm.DeviceModel.Backing.Kernel;

namespace XenVnvdimm.DeviceModel.Backing.Extents;

/// <summary>
/// Writes zeros through the file over its UNWRITTEN extents so the filesystem converts them to
/// written blocks. This is the only code that writes to a backing, and only on the user's request.
/// </summary>
internal static class ZeroFiller
{
    private const int ChunkSize = 1 << 20;

    /// <summary>Zero-fills the unwritten extents below <paramref name="size"/>; returns the bytes written.</summary>
    public static ulong Fill(NativeFile file, ulong size, int batch)
    {
        byte[] zeros = new byte[ChunkSize];
        ulong written = 0;
        using (var reader = new FiemapReader(file, 0, size, sync: true, batch))
        {
            while (reader.TryNext(out var e))
            {
                // Shared unwritten extents stay refused: writing would only unshare them by copy-on-write.
                if ((e.Flags & Fiemap.FIEMAP_EXTENT_UNWRITTEN) == 0 || (e.Flags & Fiemap.FIEMAP_EXTENT_SHARED) != 0 || e.Logical >= size)
                    continue;
                ulong end = Math.Min(e.Logical + e.Length, size);
                for (ulong at = e.Logical; at < end; at += ChunkSize)
                {
                    int n = (int)Math.Min(ChunkSize, end - at);
                    file.WriteExactly(zeros.AsSpan(0, n), (long)at);
                    written += (ulong)n;
                }
            }
        }
        if (written > 0)
            file.Sync();
        return written;
    }
}
