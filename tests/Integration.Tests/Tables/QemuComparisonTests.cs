using XenVnvdimm.Acpi.Nfit;

namespace XenVnvdimm.Tests.Integration;

/// <summary>Our NFIT against QEMU 7.2's own, for the same one-DIMM configuration.</summary>
public class QemuComparisonTests
{
    private static string Reference(string name)
    {
        string path = Path.Combine(GuestRunner.RepoRoot, "..", "shared", "reference", "qemu-tables", name);
        if (!File.Exists(path))
            path = Path.Combine(GuestRunner.RepoRoot, "tests", "Integration.Tests", "Tables", "reference", name);
        Assert.True(File.Exists(path), $"QEMU reference table {name} not found");
        return path;
    }

    [Fact]
    public void SubStructuresMatchQemuByteForByte()
    {
        byte[] qemu = File.ReadAllBytes(Reference("qemu72-1dimm-512M-label128K-NFIT.bin"));
        using var d = new TempDir();
        // QEMU: one 512 MiB nvdimm at 4 GiB with a 128 KiB label area carved from its end
        // (so the SPA range is 512M - 128K); serial 0x123456; slot 0 → handle 1, SPA 2, DCR 3.
        string backend = d.Sparse("qemu.img", 512 << 20);
        string config = $"vnvdimms = [ 'backend={backend}, size=0x1FFE0000, align=4K, label_size=128K, serial=0x123456, slot=0' ]\n" +
                        "vnvdimm_base = 0x100000000\n";
        string outDir = TableConfigs.Build(d, config, "qemu");
        byte[] ours = File.ReadAllBytes(Path.Combine(outDir, "NFIT.bin"));

        Assert.Equal(qemu.Length, ours.Length);
        Assert.Equal(Convert.ToHexString(qemu.AsSpan(NfitTable.HeaderSize)), Convert.ToHexString(ours.AsSpan(NfitTable.HeaderSize)));
        // Header: same signature, length and revision; OEM fields are ours.
        Assert.Equal(qemu.AsSpan(0, 9).ToArray(), ours.AsSpan(0, 9).ToArray());
    }

    [Fact]
    public void ParserDecodesQemuTablesAndRoundTripsThem()
    {
        foreach (string name in new[] { "qemu72-1dimm-512M-label128K-NFIT.bin", "upstream-x86-pc-NFIT.dimmpxm" })
        {
            byte[] qemu = File.ReadAllBytes(Reference(name));
            var table = NfitParser.Parse(qemu);
            Assert.NotEmpty(table.SpaRanges);
            Assert.All(table.SpaRanges, r => Assert.True(r.IsPersistentMemory));
            Assert.Equal(table.SpaRanges.Count, table.ControlRegions.Count);
            Assert.Equal(Convert.ToHexString(qemu.AsSpan(NfitTable.HeaderSize)), Convert.ToHexString(table.ToFitBuffer()));
        }
    }

    [Fact]
    public void DecodeCommandPrintsQemusTable()
    {
        var r = ProcessRunner.XenVnvdimm("tables", "--decode", Reference("qemu72-1dimm-512M-label128K-NFIT.bin"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("SPA range 2: base 0x100000000 length 0x1ffe0000 (persistent memory)", r.Stdout);
        Assert.Contains("Memory device: handle 0x1 spa 2 dcr 3", r.Stdout);
        Assert.Contains("serial 0x00123456 format 0x0301", r.Stdout);
    }
}
