using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace XenVnvdimm.Tests.Backing.Support;

/// <summary>Makes the test files: written, fallocated, punched, fragmented.</summary>
internal static unsafe class FileMaker
{
    private const int FALLOC_FL_KEEP_SIZE = 0x01;
    private const int FALLOC_FL_PUNCH_HOLE = 0x02;
    public const int Block = 4096;

    /// <summary>Writes <paramref name="bytes"/> of pseudo-random data in one go and fsyncs.</summary>
    public static byte[] Write(string path, long bytes, int seed = 1)
    {
        var data = new byte[bytes];
        new Random(seed).NextBytes(data);
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        fs.Write(data);
        fs.Flush(flushToDisk: true);
        return data;
    }

    public static void Fallocate(SafeFileHandle handle, int mode, long offset, long length)
    {
        if (LibC.fallocate((int)handle.DangerousGetHandle(), mode, offset, length) != 0)
            throw new IOException($"fallocate errno {LibC.errno}");
    }

    public static void PunchHole(SafeFileHandle handle, long offset, long length)
        => Fallocate(handle, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);

    /// <summary>
    /// Writes the file one 4 KiB block at a time from the last block to the first, syncing each: the
    /// allocators of ext4 and XFS then place each block just below the previous one, so every block
    /// is its own extent and no two are physically contiguous in file order.
    /// </summary>
    public static byte[] WriteBackwards(string path, long bytes, int seed = 2)
    {
        var data = new byte[bytes];
        new Random(seed).NextBytes(data);
        using var handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite);
        for (long at = bytes - Block; at >= 0; at -= Block)
        {
            RandomAccess.Write(handle, data.AsSpan((int)at, Block), at);
            RandomAccess.FlushToDisk(handle);
        }
        return data;
    }

    /// <summary>
    /// Leaves the filesystem's free space as <paramref name="holes"/> single 4 KiB blocks, each between
    /// two allocated ones: a filler file takes all free space, then every other block of its start is
    /// punched out. A file written afterwards gets one extent per block.
    /// </summary>
    public static void FragmentFreeSpace(string mountPoint, int holes)
    {
        long free = new DriveInfo(mountPoint).AvailableFreeSpace;
        using var handle = File.OpenHandle(Path.Combine(mountPoint, "filler"), FileMode.Create, FileAccess.ReadWrite);
        long size = free - (2L << 20); // room for the target's extent-tree blocks
        while (LibC.fallocate((int)handle.DangerousGetHandle(), 0, 0, size) != 0)
        {
            if (LibC.errno != LibC.ENOSPC || size < (64L << 20))
                throw new IOException($"fallocate filler errno {LibC.errno}");
            size -= 1L << 20;
        }
        for (long i = 0; i < holes; i++)
            PunchHole(handle, (2 * i + 1) * Block, Block);
        RandomAccess.FlushToDisk(handle);
    }
}
