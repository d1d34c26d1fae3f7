using XenVnvdimm.DeviceModel.Memory;

namespace XenVnvdimm.DeviceModel.Xen.Pmem;

/// <summary>Validation and coalescing of a scatter list before any hypercall is made.</summary>
internal static class ScatterList
{
    /// <summary>
    /// Sorts by guest frame, refuses empty runs, guest overlap and machine-frame aliasing (one host frame
    /// in two guest places would let the guest corrupt its own data), and merges neighbours that continue
    /// each other in both guest and machine frames, so each hypercall covers as much as possible.
    /// </summary>
    public static List<FrameRun> Coalesce(IReadOnlyList<FrameRun> runs)
    {
        var byGfn = runs.OrderBy(r => r.Gfn).ToList();
        foreach (var r in byGfn)
        {
            if (r.Count == 0)
                throw new ArgumentException($"empty run at gfn 0x{r.Gfn:x}");
            if (r.Gfn + r.Count < r.Gfn || r.Mfn + r.Count < r.Mfn)
                throw new ArgumentException($"run at gfn 0x{r.Gfn:x} wraps around");
        }
        CheckDisjoint(byGfn, r => r.Gfn, "guest");
        CheckDisjoint(runs.OrderBy(r => r.Mfn).ToList(), r => r.Mfn, "machine");

        var merged = new List<FrameRun>(byGfn.Count);
        foreach (var r in byGfn)
        {
            if (merged.Count > 0 && merged[^1].GfnEnd == r.Gfn && merged[^1].MfnEnd == r.Mfn)
                merged[^1] = merged[^1] with { Count = merged[^1].Count + r.Count };
            else
                merged.Add(r);
        }
        return merged;
    }

    /// <summary>Machine-frame ranges covering the runs, merged where adjacent (for iomem permissions).</summary>
    public static List<(ulong First, ulong Count)> MachineRanges(IEnumerable<FrameRun> runs)
    {
        var result = new List<(ulong First, ulong Count)>();
        foreach (var r in runs.OrderBy(r => r.Mfn))
        {
            if (result.Count > 0 && result[^1].First + result[^1].Count == r.Mfn)
                result[^1] = (result[^1].First, result[^1].Count + r.Count);
            else
                result.Add((r.Mfn, r.Count));
        }
        return result;
    }

    private static void CheckDisjoint(List<FrameRun> sorted, Func<FrameRun, ulong> start, string what)
    {
        for (int i = 1; i < sorted.Count; i++)
        {
            if (start(sorted[i - 1]) + sorted[i - 1].Count > start(sorted[i]))
                throw new ArgumentException($"{what} frames overlap at 0x{start(sorted[i]):x}");
        }
    }
}
