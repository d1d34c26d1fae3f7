namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>
/// Whether a backing file's blocks are pinned where they were resolved: frames handed to a guest must
/// not move (defrag), be shared (reflink, dedupe) or be freed (truncate) while the guest runs.
/// </summary>
/// <param name="Immutable">The file has the immutable flag (<c>chattr +i</c>): no writes, truncation, defragmentation or reflink onto it.</param>
/// <param name="ReadableByOthers">Group or others may read the file, and so could reflink it as a source, sharing its blocks.</param>
/// <param name="DaxFile">The kernel reports the file as DAX (STATX_ATTR_DAX), or null when it cannot tell.</param>
/// <param name="Recommendations">What to do to pin the file; empty when it is pinned.</param>
public sealed record PinningReport(bool Immutable, bool ReadableByOthers, bool? DaxFile, IReadOnlyList<string> Recommendations)
{
    /// <summary>The host-wide claim holding the backing's frames (<c>dom5 slot 1 (backend ...)</c>), when a guest maps it.</summary>
    public string? ClaimedBy { get; init; }

    /// <summary>True when that claim's companion set the immutable flag (and clears it once the domain is gone); false when the flag was set before.</summary>
    public bool? PinnedByCompanion { get; init; }

    /// <summary>True when nothing is recommended.</summary>
    public bool Pinned => Recommendations.Count == 0;

    /// <summary>Builds the report for a file at <paramref name="path"/>.</summary>
    public static PinningReport For(string path, bool immutable, bool readableByOthers, bool? daxFile)
    {
        var advice = new List<string>();
        if (!immutable)
            advice.Add($"chattr +i '{path}' (blocks writes, truncation, e4defrag/xfs_fsr and reflink onto the file)");
        if (readableByOthers)
            advice.Add($"chmod go-rwx '{path}' (anyone who can read it can reflink it, making its blocks shared)");
        advice.Add("keep it out of defragmenters and deduplicators (duperemove, xfs_fsr, e4defrag runs)");
        if (immutable && !readableByOthers)
            advice.Clear();
        return new PinningReport(immutable, readableByOthers, daxFile, advice);
    }
}
