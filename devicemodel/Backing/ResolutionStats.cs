using System.Diagnostics;
using System.Globalization;

namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>Cost of one resolution: time per pass, bytes allocated, memory per run, peak RSS.</summary>
/// <param name="Total">Wall time of the whole resolution.</param>
/// <param name="FirstPass">Time of the list-building FIEMAP pass.</param>
/// <param name="VerifyPass">Time of the verifying FIEMAP pass.</param>
/// <param name="Runs">Runs resolved.</param>
/// <param name="Extents">Extents read per pass.</param>
/// <param name="AllocatedBytes">Bytes allocated during the resolution: managed allocations plus the native memory committed for run lists.</param>
/// <param name="RunStorageBytes">Bytes held by the run list.</param>
/// <param name="PeakRssKiB">Peak resident set of the process (VmHWM), in KiB.</param>
public sealed record ResolutionStats(TimeSpan Total, TimeSpan FirstPass, TimeSpan VerifyPass, long Runs, long Extents,
    long AllocatedBytes, long RunStorageBytes, long PeakRssKiB)
{
    /// <summary>Runs <paramref name="resolve"/> and measures it.</summary>
    public static (BackingResolution Resolution, ResolutionStats Stats) Measure(Func<BackingResolution> resolve)
    {
        long allocated = GC.GetTotalAllocatedBytes(precise: true) + Kernel.ReservedMemory.TotalCommitted;
        long start = Stopwatch.GetTimestamp();
        var r = resolve();
        var total = Stopwatch.GetElapsedTime(start);
        allocated = GC.GetTotalAllocatedBytes(precise: true) + Kernel.ReservedMemory.TotalCommitted - allocated;
        return (r, new ResolutionStats(total, r.FirstPassTime, r.VerifyPassTime, r.Runs.Count, r.Extents, allocated, r.Runs.StorageBytes, PeakRss()));
    }

    private static long PeakRss()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
        return 0;
    }

    /// <summary>One <c>key=value</c> line for scripts.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"total_seconds={Total.TotalSeconds:F6} first_pass_seconds={FirstPass.TotalSeconds:F6} verify_pass_seconds={VerifyPass.TotalSeconds:F6} " +
        $"runs={Runs} extents={Extents} allocated_bytes={AllocatedBytes} allocated_bytes_per_run={(Runs == 0 ? 0 : (double)AllocatedBytes / Runs):F2} " +
        $"run_storage_bytes_per_run={(Runs == 0 ? 0 : (double)RunStorageBytes / Runs):F2} peak_rss_kb={PeakRssKiB}");
}
