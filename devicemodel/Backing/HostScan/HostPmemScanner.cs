using System.Globalization;
using XenVnvdimm.Acpi.Nfit;
using XenVnvdimm.DeviceModel.Backing.Sysfs;

namespace XenVnvdimm.DeviceModel.Backing.HostScan;

/// <summary>
/// Reads the host's pmem SPA ranges from three independent places — the ACPI NFIT, the firmware
/// memory map (E820 type 7) and the kernel's nd bus — and cross-checks them.
/// </summary>
public static class HostPmemScanner
{
    private static readonly string[] s_e820PmemTypes = ["Persistent Memory", "Persistent Memory (legacy)"];

    /// <summary>Scans the sysfs tree rooted at <paramref name="sysfs"/>.</summary>
    /// <exception cref="NfitFormatException">The NFIT is malformed.</exception>
    public static HostScanReport Scan(SysfsTree sysfs)
    {
        string nfitPath = Path.Combine(sysfs.Root, "firmware", "acpi", "tables", "NFIT");
        string memmap = Path.Combine(sysfs.Root, "firmware", "memmap");
        string nd = Path.Combine(sysfs.Root, "bus", "nd", "devices");
        var nfit = ReadNfit(nfitPath);
        var e820 = ReadE820(memmap);
        var regions = ReadRegions(nd);
        return new HostScanReport(nfit, e820, regions, CrossCheck(nfit, e820, regions), Notes(nfitPath, nfit, memmap, e820, nd, regions));
    }

    // Why a source gave nothing: the reader of an empty report must not have to guess.
    private static List<string> Notes(string nfitPath, List<PmemRange> nfit, string memmap, List<PmemRange> e820, string nd, List<PmemRange> regions)
    {
        var notes = new List<string>();
        if (nfit.Count == 0)
            notes.Add(File.Exists(nfitPath)
                ? $"NFIT: {nfitPath} describes no persistent-memory SPA range"
                : $"NFIT: {nfitPath} does not exist (the firmware describes no NVDIMMs)");
        if (e820.Count == 0)
            notes.Add(Directory.Exists(memmap)
                ? $"E820: no 'Persistent Memory' entry (type 7 or legacy 12) in {memmap}"
                : $"E820: {memmap} does not exist");
        if (regions.Count == 0)
            notes.Add(Directory.Exists(nd)
                ? $"nd: no region with a resource under {nd}"
                : $"nd: {nd} does not exist (libnvdimm is not loaded or sees no NVDIMM bus)");
        return notes;
    }

    private static List<PmemRange> ReadNfit(string path)
    {
        if (!File.Exists(path))
            return [];
        var table = NfitParser.Parse(File.ReadAllBytes(path));
        return table.SpaRanges.Where(r => r.IsPersistentMemory)
            .Select(r => new PmemRange("NFIT", $"spa{r.RangeIndex}", r.Base, r.Length)).ToList();
    }

    private static List<PmemRange> ReadE820(string dir)
    {
        var list = new List<PmemRange>();
        if (!Directory.Exists(dir))
            return list;
        foreach (string entry in Directory.GetDirectories(dir).OrderBy(d => int.TryParse(Path.GetFileName(d), out int n) ? n : int.MaxValue))
        {
            string? type = SysfsTree.ReadText(Path.Combine(entry, "type"));
            if (type is null || !s_e820PmemTypes.Contains(type))
                continue;
            ulong start = SysfsTree.ReadNumber(Path.Combine(entry, "start"));
            ulong end = SysfsTree.ReadNumber(Path.Combine(entry, "end")); // inclusive
            list.Add(new PmemRange("E820", $"memmap{Path.GetFileName(entry)} ({type})", start, end - start + 1));
        }
        return list;
    }

    private static List<PmemRange> ReadRegions(string dir)
    {
        var list = new List<PmemRange>();
        if (!Directory.Exists(dir))
            return list;
        foreach (string region in Directory.GetFileSystemEntries(dir, "region*").Order(StringComparer.Ordinal))
        {
            string real = SysfsTree.Canonical(region);
            if (SysfsTree.ReadNumberOrNull(Path.Combine(real, "resource")) is not { } start)
                continue;
            list.Add(new PmemRange("nd", Path.GetFileName(region), start, SysfsTree.ReadNumber(Path.Combine(real, "size"))));
        }
        return list;
    }

    private static List<string> CrossCheck(List<PmemRange> nfit, List<PmemRange> e820, List<PmemRange> regions)
    {
        var problems = new List<string>();
        static string R(PmemRange r) => string.Create(CultureInfo.InvariantCulture, $"{r.Source} {r.Name} [0x{r.Start:x}, 0x{r.End:x})");
        foreach (var n in nfit)
        {
            if (!e820.Any(e => e.Contains(n)))
                problems.Add($"{R(n)} is not inside any E820 persistent-memory entry");
            if (!regions.Any(g => g.Start == n.Start && g.Length == n.Length))
                problems.Add($"{R(n)} has no nd region with the same base and size");
        }
        foreach (var e in e820)
            if (nfit.Count > 0 && !nfit.Any(n => e.Contains(n) || n.Contains(e)))
                problems.Add($"{R(e)} overlaps no NFIT persistent-memory range");
        foreach (var g in regions)
            if (!nfit.Any(n => n.Contains(g)) && !e820.Any(e => e.Contains(g)))
                problems.Add($"{R(g)} is described by neither the NFIT nor E820");
        for (int i = 0; i < nfit.Count; i++)
            for (int j = i + 1; j < nfit.Count; j++)
                if (nfit[i].Start < nfit[j].End && nfit[j].Start < nfit[i].End)
                    problems.Add($"{R(nfit[i])} overlaps {R(nfit[j])}");
        return problems;
    }
}
