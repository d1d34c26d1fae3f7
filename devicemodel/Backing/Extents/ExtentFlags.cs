using System.Text;
using static XenVnvdimm.DeviceModel.Backing.Kernel.Fiemap;

namespace XenVnvdimm.DeviceModel.Backing.Extents;

/// <summary>Maps FIEMAP extent flags to refusal reasons and names.</summary>
internal static class ExtentFlags
{
    // Most serious first: the first flag present decides the reason. The kernel adds UNKNOWN to
    // DELALLOC, ENCODED to DATA_ENCRYPTED and NOT_ALIGNED to DATA_INLINE/DATA_TAIL
    // (fs/ioctl.c, fiemap_fill_next_extent), so each implying flag comes before the flag it
    // implies: otherwise its more specific reason could never be reported.
    private static readonly (uint Flag, RefusalReason Reason, string Name)[] s_refused =
    [
        (FIEMAP_EXTENT_SHARED, RefusalReason.Shared, "SHARED"),
        (FIEMAP_EXTENT_DELALLOC, RefusalReason.Delalloc, "DELALLOC"),
        (FIEMAP_EXTENT_UNKNOWN, RefusalReason.Unknown, "UNKNOWN"),
        (FIEMAP_EXTENT_DATA_ENCRYPTED, RefusalReason.Encrypted, "DATA_ENCRYPTED"),
        (FIEMAP_EXTENT_ENCODED, RefusalReason.Encoded, "ENCODED"),
        (FIEMAP_EXTENT_DATA_INLINE, RefusalReason.Inline, "DATA_INLINE"),
        (FIEMAP_EXTENT_DATA_TAIL, RefusalReason.Tail, "DATA_TAIL"),
        (FIEMAP_EXTENT_NOT_ALIGNED, RefusalReason.NotAligned, "NOT_ALIGNED"),
        (FIEMAP_EXTENT_UNWRITTEN, RefusalReason.Unwritten, "UNWRITTEN"),
    ];

    /// <summary>Flags that do not affect mapping.</summary>
    public const uint Harmless = FIEMAP_EXTENT_LAST | FIEMAP_EXTENT_MERGED;

    /// <summary>The reason an extent with <paramref name="flags"/> is refused, or null if it is mappable.</summary>
    public static RefusalReason? Refusal(uint flags)
    {
        if ((flags & ~Harmless) == 0)
            return null; // the common case, kept off the table walk
        foreach (var (flag, reason, _) in s_refused)
            if ((flags & flag) != 0)
                return reason;
        // Flags newer than this program are refused rather than guessed at.
        return (flags & ~Harmless & ~AllKnown) != 0 ? RefusalReason.Unknown : null;
    }

    private static uint AllKnown
    {
        get
        {
            uint all = 0;
            foreach (var (flag, _, _) in s_refused)
                all |= flag;
            return all;
        }
    }

    /// <summary>Flag names for a message, e.g. <c>UNWRITTEN|LAST</c>.</summary>
    public static string Describe(uint flags)
    {
        var sb = new StringBuilder();
        foreach (var (flag, _, name) in s_refused)
            if ((flags & flag) != 0)
                sb.Append(sb.Length > 0 ? "|" : "").Append(name);
        if ((flags & FIEMAP_EXTENT_MERGED) != 0)
            sb.Append(sb.Length > 0 ? "|" : "").Append("MERGED");
        if ((flags & FIEMAP_EXTENT_LAST) != 0)
            sb.Append(sb.Length > 0 ? "|" : "").Append("LAST");
        uint unknown = flags & ~Harmless & ~AllKnown;
        if (unknown != 0)
            sb.Append(sb.Length > 0 ? "|" : "").Append($"0x{unknown:x}");
        return sb.Length == 0 ? "none" : sb.ToString();
    }
}
