using XenVnvdimm.Acpi.Nfit;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// Boots QEMU 7.2 once with its own <c>-device nvdimm</c> (512 MiB, label-size 128 KiB) and has
/// the guest copy the NFIT QEMU built (/sys/firmware/acpi/tables/NFIT) into that NVDIMM, from
/// where the host reads it: QEMU itself, live, is the peer (the same configuration as
/// ../shared/reference/qemu-tables/qemu72-1dimm-512M-label128K-NFIT.bin).
/// </summary>
public sealed class LiveQemuNfit
{
    public LiveQemuNfit()
    {
        GuestRunner.RequireTools();
        using var d = new TempDir();
        string nv = d.Sparse("qemu-nvdimm.img", 512 << 20);
        var run = GuestRunner.RunAsync(["--qemu-nvdimm", $"{nv}:128K", "--timeout", "150", "-c",
            "dd if=/sys/firmware/acpi/tables/NFIT of=/dev/pmem0 bs=4096 conv=sync,fsync 2>/dev/null && echo COPIED"],
            TimeSpan.FromSeconds(200)).GetAwaiter().GetResult();
        Assert.True(run.ExitCode == 0 && run.Stdout.Contains("COPIED"), run.ToString());
        byte[] head = new byte[4096];
        using (var f = File.OpenRead(nv))
            f.ReadExactly(head);
        int length = BitConverter.ToInt32(head, 4);
        Assert.InRange(length, 40, 4096);
        Bytes = head[..length];
    }

    /// <summary>QEMU's NFIT, whole table.</summary>
    public byte[] Bytes { get; }
}

/// <summary>Our NFIT against QEMU's own, for the same one-DIMM configuration.</summary>
public class QemuComparisonTests(LiveQemuNfit qemu) : IClassFixture<LiveQemuNfit>
{
    [Fact]
    public void SubStructuresMatchQemuByteForByte()
    {
        using var d = new TempDir();
        // QEMU: one 512 MiB nvdimm at 4 GiB with a 128 KiB label area carved from its end
        // (so the SPA range is 512M - 128K); serial 0x123456; slot 0 → handle 1, SPA 2, DCR 3.
        string backend = d.Sparse("qemu.img", 512 << 20);
        string config = $"vnvdimms = [ 'backend={backend}, size=0x1FFE0000, align=4K, label_size=128K, serial=0x123456, slot=0' ]\n" +
                        "vnvdimm_base = 0x100000000\n";
        string outDir = TableConfigs.Build(d, config, "qemu");
        byte[] ours = File.ReadAllBytes(Path.Combine(outDir, "NFIT.bin"));

        Assert.Equal(qemu.Bytes.Length, ours.Length);
        Assert.Equal(Convert.ToHexString(qemu.Bytes.AsSpan(NfitTable.HeaderSize)), Convert.ToHexString(ours.AsSpan(NfitTable.HeaderSize)));
        // Header: same signature, length and revision; OEM fields are ours.
        Assert.Equal(qemu.Bytes.AsSpan(0, 9).ToArray(), ours.AsSpan(0, 9).ToArray());
    }

    [Fact]
    public void ParserDecodesQemusTableAndRoundTripsIt()
    {
        var table = NfitParser.Parse(qemu.Bytes);
        Assert.Single(table.SpaRanges);
        Assert.True(table.SpaRanges[0].IsPersistentMemory);
        Assert.Equal(0x100000000UL, table.SpaRanges[0].Base);
        Assert.Equal(table.SpaRanges.Count, table.ControlRegions.Count);
        Assert.Equal(Convert.ToHexString(qemu.Bytes.AsSpan(NfitTable.HeaderSize)), Convert.ToHexString(table.ToFitBuffer()));
    }

    [Fact]
    public void DecodeCommandPrintsQemusTable()
    {
        using var d = new TempDir();
        File.WriteAllBytes(d.File("NFIT"), qemu.Bytes);
        var r = ProcessRunner.XenVnvdimm("tables", "--decode", d.File("NFIT"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("SPA range 2: base 0x100000000 length 0x1ffe0000 (persistent memory)", r.Stdout);
        Assert.Contains("Memory device: handle 0x1 spa 2 dcr 3", r.Stdout);
        Assert.Contains("serial 0x00123456 format 0x0301", r.Stdout);
    }
}
