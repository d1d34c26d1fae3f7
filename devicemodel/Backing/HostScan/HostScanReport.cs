namespace XenVnvdimm.DeviceModel.Backing.HostScan;

/// <summary>The host's pmem as each source sees it, and where the sources disagree.</summary>
/// <param name="Nfit">Persistent-memory SPA ranges of the ACPI NFIT.</param>
/// <param name="E820">Type 7 (and legacy type 12) entries of the firmware memory map.</param>
/// <param name="Regions">nd bus regions.</param>
/// <param name="Disagreements">Every range one source has and another lacks or sizes differently.</param>
/// <param name="Notes">For every source that gave no range, why (which file or directory was missing or empty).</param>
public sealed record HostScanReport(IReadOnlyList<PmemRange> Nfit, IReadOnlyList<PmemRange> E820, IReadOnlyList<PmemRange> Regions, IReadOnlyList<string> Disagreements, IReadOnlyList<string> Notes)
{
    /// <summary>True when no source reports any persistent memory.</summary>
    public bool Empty => Nfit.Count + E820.Count + Regions.Count == 0;
}
