using XenVnvdimm.DeviceModel.Memory;

namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>Totals of a scatter list: how many pages could be mapped with 2 MiB and 1 GiB pages.</summary>
/// <param name="Runs">Number of runs.</param>
/// <param name="Pages">4 KiB pages.</param>
/// <param name="Pages2M">Pages inside 2 MiB-aligned, 2 MiB-long pieces whose guest and machine addresses are congruent.</param>
/// <param name="Pages1G">Likewise for 1 GiB.</param>
public sealed record RunStatistics(long Runs, ulong Pages, ulong Pages2M, ulong Pages1G)
{
    /// <summary>Share of pages mappable with 2 MiB (or larger) pages.</summary>
    public double Share2M => Pages == 0 ? 0 : (double)Pages2M / Pages;

    /// <summary>Share of pages mappable with 1 GiB pages.</summary>
    public double Share1G => Pages == 0 ? 0 : (double)Pages1G / Pages;

    /// <summary>Computes the totals of <paramref name="runs"/>.</summary>
    public static RunStatistics Of(IEnumerable<FrameRun> runs)
    {
        long count = 0;
        ulong pages = 0, p2m = 0, p1g = 0;
        foreach (var r in runs)
        {
            count++;
            pages += r.Count;
            p2m += Superpageable(r, FrameRun.FramesPer2M);
            p1g += Superpageable(r, FrameRun.FramesPer1G);
        }
        return new RunStatistics(count, pages, p2m, p1g);
    }

    // Pages of the run that fall in whole superpages; only possible when gfn and mfn agree modulo the superpage.
    private static ulong Superpageable(FrameRun r, ulong frames)
    {
        if (((r.Gfn ^ r.Mfn) & (frames - 1)) != 0)
            return 0;
        ulong first = (r.Gfn + frames - 1) & ~(frames - 1);
        ulong last = r.GfnEnd & ~(frames - 1);
        return last > first ? last - first : 0;
    }
}
