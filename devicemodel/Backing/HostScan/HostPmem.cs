using XenVnvdimm.Acpi.Nfit;
using XenVnvdimm.DeviceModel.Backing.Sysfs;
using XenVnvdimm.DeviceModel.Memory;

namespace XenVnvdimm.DeviceModel.Backing.HostScan;

/// <summary>
/// The last check before frames reach a guest on real Xen: every machine frame must lie in host
/// persistent memory as the firmware and the kernel describe it — an NFIT SPA range of type persistent
/// memory, an E820 type 7 (or legacy 12) entry, or an nd region — the same sources <c>host-scan</c>
/// reads. A bug or a forged assumption elsewhere then cannot hand a guest dom0's RAM or MMIO.
/// </summary>
public static class HostPmem
{
    /// <summary>Refuses unless each run lies wholly inside one host pmem range.</summary>
    /// <param name="sysfs">The sysfs tree to read (normally /sys).</param>
    /// <param name="runs">The frames about to be mapped.</param>
    /// <exception cref="UserErrorException">Names the first run outside, and the ranges found.</exception>
    public static void EnsureContains(SysfsTree sysfs, IEnumerable<FrameRun> runs)
    {
        HostScanReport report;
        try
        {
            report = HostPmemScanner.Scan(sysfs);
        }
        catch (Exception e) when (e is NfitFormatException or InvalidDataException or IOException)
        {
            throw new UserErrorException($"cannot tell host pmem from other memory ({sysfs.Root}): {e.Message}", e);
        }
        var ranges = report.Nfit.Concat(report.E820).Concat(report.Regions).ToList();
        foreach (var run in runs)
        {
            ulong start = run.Mfn << 12, end = run.MfnEnd << 12;
            if (run.Count == 0 || ranges.Any(r => r.Start <= start && end <= r.End))
                continue;
            string found = ranges.Count == 0
                ? $"no persistent memory found ({string.Join("; ", report.Notes)})"
                : "host pmem ranges: " + string.Join(", ", ranges.Select(r => $"{r.Source} {r.Name} 0x{r.Start:x}-0x{r.End - 1:x}"));
            throw new UserErrorException($"machine frames 0x{start:x}-0x{end - 1:x} (guest frame 0x{run.Gfn:x}, {run.Count} frames) are not inside host persistent memory; {found}");
        }
    }
}
