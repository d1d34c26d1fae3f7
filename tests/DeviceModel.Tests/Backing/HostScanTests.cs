using System.Globalization;
using XenVnvdimm.DeviceModel.Backing.HostScan;
using XenVnvdimm.DeviceModel.Backing.Sysfs;
using XenVnvdimm.Tests.Backing.Support;
using Xunit;

namespace XenVnvdimm.Tests.Backing;

/// <summary>
/// host-scan against a tree built from a real guest's firmware files: QEMU's NFIT, the guest's
/// /sys/firmware/memmap and its nd regions. The guest kernel's regions are the expected ranges.
/// </summary>
[Collection(GuestNamespacesCollection.Name)]
public sealed class HostScanTests
{
    private readonly GuestNamespaces _guest;

    public HostScanTests(GuestNamespaces guest) => _guest = guest;

    [Fact]
    public void NfitRangesAgreeWithTheGuestKernelsRegionsAndE820IsCrossChecked()
    {
        string root = Directory.CreateTempSubdirectory("xvn-hostscan-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "firmware", "acpi", "tables"));
            File.WriteAllBytes(Path.Combine(root, "firmware", "acpi", "tables", "NFIT"), _guest.Nfit);
            var guestPmemE820 = new List<(ulong, ulong)>();
            foreach (var (key, value) in _guest.Values.Where(kv => kv.Key.StartsWith("memmap.", StringComparison.Ordinal)))
            {
                string[] parts = value.Split(' ', 3);
                string dir = Path.Combine(root, "firmware", "memmap", key["memmap.".Length..]);
                Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(dir, "start"), parts[0] + "\n");
                File.WriteAllText(Path.Combine(dir, "end"), parts[1] + "\n");
                File.WriteAllText(Path.Combine(dir, "type"), parts[2] + "\n");
                if (parts[2].StartsWith("Persistent Memory", StringComparison.Ordinal))
                    guestPmemE820.Add((Hex(parts[0]), Hex(parts[1]) + 1));
            }
            var regions = new[] { "region0" }.Select(r => (Name: r, Start: _guest.Number($"{r}.resource"), Size: _guest.Number($"{r}.size"))).ToList();
            foreach (var r in regions)
            {
                string dir = Path.Combine(root, "bus", "nd", "devices", r.Name);
                Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(dir, "resource"), $"0x{r.Start:x}\n");
                File.WriteAllText(Path.Combine(dir, "size"), $"{r.Size}\n");
            }

            var report = HostPmemScanner.Scan(new SysfsTree(root));
            Assert.Equal(regions.Select(r => (r.Start, r.Size)).Order(), report.Nfit.Select(n => (n.Start, n.Length)).Order());
            Assert.Equal(regions.Select(r => (r.Start, r.Size)).Order(), report.Regions.Select(n => (n.Start, n.Length)).Order());
            Assert.Equal(guestPmemE820.Order(), report.E820.Select(e => (e.Start, e.End)).Order());
            // Each NFIT range is either inside a guest E820 pmem entry or reported as missing from E820.
            int expectedE820Problems = regions.Count(r => !guestPmemE820.Any(e => e.Item1 <= r.Start && r.Start + r.Size <= e.Item2));
            Assert.Equal(expectedE820Problems, report.Disagreements.Count(d => d.Contains("E820", StringComparison.Ordinal)));
            Assert.DoesNotContain(report.Disagreements, d => d.Contains("no nd region", StringComparison.Ordinal));

            // A region the NFIT does not describe is a disagreement.
            string extra = Path.Combine(root, "bus", "nd", "devices", "region9");
            Directory.CreateDirectory(extra);
            File.WriteAllText(Path.Combine(extra, "resource"), "0x900000000\n");
            File.WriteAllText(Path.Combine(extra, "size"), "134217728\n");
            Assert.Contains(HostPmemScanner.Scan(new SysfsTree(root)).Disagreements, d => d.Contains("region9", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static ulong Hex(string s) => ulong.Parse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
}
