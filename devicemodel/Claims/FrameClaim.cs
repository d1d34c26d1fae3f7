using System.Globalization;
using XenVnvdimm.DeviceModel.Backing.Pinning;

namespace XenVnvdimm.DeviceModel.Claims;

/// <summary>
/// One device's machine frames, claimed host-wide for one domain until that domain is gone.
/// </summary>
/// <param name="Domid">The guest the frames are mapped into.</param>
/// <param name="Domain">Which incarnation of the domain: domid and the start time of the companion that first mapped them (informational; liveness is asked by domid).</param>
/// <param name="Slot">The vNVDIMM slot.</param>
/// <param name="Backend">The backend path as configured (for messages).</param>
/// <param name="PinnedPath">The file made immutable (absolute, symlinks resolved), or null for a device.</param>
/// <param name="Backing">The backing's inode or device number.</param>
/// <param name="PinnedByUs">True when a companion set FS_IMMUTABLE_FL and it must be cleared once the domain is gone.</param>
/// <param name="Frames">Machine frame ranges, sorted and merged.</param>
/// <param name="Pid">The companion that made the claim.</param>
/// <param name="Claimed">When.</param>
public sealed record FrameClaim(
    ushort Domid, string Domain, int Slot, string Backend, string? PinnedPath, BackingIdentity Backing, bool PinnedByUs,
    IReadOnlyList<MfnRange> Frames, int Pid, DateTimeOffset Claimed)
{
    /// <summary>The claim's file name in the registry: one file per domain and slot.</summary>
    public string FileName => string.Create(CultureInfo.InvariantCulture, $"d{Domid}.s{Slot}.claim");

    /// <summary><c>dom5 slot 1 (backend /dev/pmem0)</c>.</summary>
    public string Holder => string.Create(CultureInfo.InvariantCulture, $"dom{Domid} slot {Slot} (backend {Backend})");

    /// <summary>True when both claims list the same frames.</summary>
    public bool SameFrames(FrameClaim other) => Frames.SequenceEqual(other.Frames);

    /// <summary>Sorts and merges machine frame runs.</summary>
    public static List<MfnRange> Normalize(IEnumerable<MfnRange> runs)
    {
        var sorted = runs.Where(r => r.Count > 0).OrderBy(r => r.First).ToList();
        var merged = new List<MfnRange>(sorted.Count);
        foreach (var r in sorted)
        {
            if (merged.Count > 0 && merged[^1].End >= r.First)
                merged[^1] = merged[^1] with { Count = Math.Max(merged[^1].End, r.End) - merged[^1].First };
            else
                merged.Add(r);
        }
        return merged;
    }
}

/// <summary><paramref name="Count"/> machine frames from <paramref name="First"/>.</summary>
/// <param name="First">First machine frame.</param>
/// <param name="Count">Frames.</param>
public readonly record struct MfnRange(ulong First, ulong Count)
{
    /// <summary>One past the last frame.</summary>
    public ulong End => First + Count;

    /// <summary>The range as machine addresses, <c>0x100000000-0x13fffffff</c>.</summary>
    public override string ToString() => $"0x{First << 12:x}-0x{(End << 12) - 1:x}";
}
