using System.Runtime.InteropServices;

namespace XenVnvdimm.DeviceModel.Backing.Kernel;

/// <summary><c>struct fiemap</c> header (linux/fiemap.h), 32 bytes; the extent array follows it.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FiemapHeader
{
    public ulong fm_start;
    public ulong fm_length;
    public uint fm_flags;
    public uint fm_mapped_extents;
    public uint fm_extent_count;
    public uint fm_reserved;
}

/// <summary><c>struct fiemap_extent</c> (linux/fiemap.h), 56 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FiemapExtent
{
    public ulong fe_logical;
    public ulong fe_physical;
    public ulong fe_length;
    public fixed ulong fe_reserved64[2];
    public uint fe_flags;
    public fixed uint fe_reserved[3];
}

/// <summary>FIEMAP sizes and flag values, with their C names (linux/fiemap.h).</summary>
internal static class Fiemap
{
    public static readonly unsafe int HeaderSize = sizeof(FiemapHeader);
    public static readonly unsafe int ExtentSize = sizeof(FiemapExtent);

    // Request flags (fm_flags).
    public const uint FIEMAP_FLAG_SYNC = 0x00000001;
    public const uint FIEMAP_FLAG_XATTR = 0x00000002;

    // Extent flags (fe_flags).
    public const uint FIEMAP_EXTENT_LAST = 0x00000001;
    public const uint FIEMAP_EXTENT_UNKNOWN = 0x00000002;
    public const uint FIEMAP_EXTENT_DELALLOC = 0x00000004;
    public const uint FIEMAP_EXTENT_ENCODED = 0x00000008;
    public const uint FIEMAP_EXTENT_DATA_ENCRYPTED = 0x00000080;
    public const uint FIEMAP_EXTENT_NOT_ALIGNED = 0x00000100;
    public const uint FIEMAP_EXTENT_DATA_INLINE = 0x00000200;
    public const uint FIEMAP_EXTENT_DATA_TAIL = 0x00000400;
    public const uint FIEMAP_EXTENT_UNWRITTEN = 0x00000800;
    public const uint FIEMAP_EXTENT_MERGED = 0x00001000;
    public const uint FIEMAP_EXTENT_SHARED = 0x00002000;
}
