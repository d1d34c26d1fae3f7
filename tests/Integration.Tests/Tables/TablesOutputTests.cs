using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// What <c>xen-vnvdimm tables</c> writes besides the tables themselves: layout.json's per-device and
/// global values, each checked against a value worked out here (the config, FACTS.md's QEMU
/// numbering, the documented defaults) and against the tables (NFIT bytes, iasl's disassembly of
/// the SSDT); and acpi_firmware.bin, which must be SSDT.aml followed by NFIT.bin and nothing else.
/// </summary>
public class TablesOutputTests
{
    [Theory]
    [InlineData("xen", "0xfe000000")]
    [InlineData("qemu", "0x3f000000")]
    public void LayoutJsonHandlesSerialsLabelSizesMailboxAndDoorbell(string platform, string defaultMailbox)
    {
        using var d = new TempDir();
        string outDir = TableConfigs.Build(d, TableConfigs.Four(d), platform);
        var layout = TableConfigs.Layout(outDir);
        Assert.Equal(defaultMailbox, layout.GetProperty("mailbox_gpa").GetString());
        Assert.Equal(0x0A18, layout.GetProperty("doorbell_port").GetInt32());

        var devices = layout.GetProperty("devices").EnumerateArray().ToList();
        // TableConfigs.Four: a, b, c in slots 0-2 by order, d asks for slot 7.
        Assert.Equal([0, 1, 2, 7], devices.Select(x => x.GetProperty("slot").GetInt32()));
        Assert.Equal([128 << 10, 128 << 10, 0, 256 << 10], devices.Select(x => x.GetProperty("label_size").GetInt32()));
        var nfit = Nfit.Parse(File.ReadAllBytes(Path.Combine(outDir, "NFIT.bin")));
        string ssdt = Disassemble(outDir);
        foreach (var dev in devices)
        {
            int slot = dev.GetProperty("slot").GetInt32();
            uint handle = dev.GetProperty("handle").GetUInt32();
            Assert.Equal((uint)slot + 1, handle);                                    // QEMU's numbering (FACTS.md)
            Assert.Matches($@"Device \(NV{slot:X2}\)\s*\{{\s*Name \(_ADR, {AslInteger(handle)}\)", ssdt);
            string backend = dev.GetProperty("backend").GetString()!;
            uint serial = backend.EndsWith("/d.img", StringComparison.Ordinal) ? 0xabc : Fnv1a(RealPath(backend));
            Assert.Equal($"0x{serial:x8}", dev.GetProperty("serial").GetString());
            // The same handle and serial in the NFIT: memdev → DCR.
            var memdev = Assert.Single(nfit.MemoryDevices, m => m.Handle == handle);
            Assert.Equal(serial, nfit.ControlRegionSerials[memdev.DcrIndex]);
        }
    }

    [Fact]
    public void ConfiguredMailboxAndDoorbellReachLayoutJsonAndTheSsdt()
    {
        using var d = new TempDir();
        // 0xFE800000: clear of hvmloader's reserved areas (0xFD000000 lies in its dynamic one).
        string config = $"dsm_mailbox = \"0xFE800000\"\ndsm_port = \"0x0B10\"\nvnvdimms = [ 'backend={d.Sparse("m.img", 64 << 20)}, label_size=0' ]\n";
        string outDir = TableConfigs.Build(d, config, "xen");
        var layout = TableConfigs.Layout(outDir);
        Assert.Equal("0xfe800000", layout.GetProperty("mailbox_gpa").GetString());
        Assert.Equal(0x0B10, layout.GetProperty("doorbell_port").GetInt32());
        var dev = Assert.Single(layout.GetProperty("devices").EnumerateArray());
        Assert.Equal(0, dev.GetProperty("label_size").GetInt32());
        Assert.Equal(1u, dev.GetProperty("handle").GetUInt32());

        string ssdt = Disassemble(outDir);
        Assert.Contains("OperationRegion (XVMB, SystemMemory, 0xFE800000, 0x1000)", ssdt, StringComparison.Ordinal);
        Assert.Contains("OperationRegion (XVDB, SystemIO, 0x0B10, One)", ssdt, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("xen")]
    [InlineData("qemu")]
    public void AcpiFirmwareIsExactlySsdtFollowedByNfit(string platform)
    {
        using var d = new TempDir();
        string outDir = TableConfigs.Build(d, TableConfigs.Four(d), platform);
        byte[] ssdt = File.ReadAllBytes(Path.Combine(outDir, "SSDT.aml"));
        byte[] nfit = File.ReadAllBytes(Path.Combine(outDir, "NFIT.bin"));
        byte[] firmware = File.ReadAllBytes(Path.Combine(outDir, "acpi_firmware.bin"));

        // Walk the blob the way hvmloader does: table after table, each as long as its header says.
        var tables = new List<(string Signature, byte[] Bytes)>();
        for (int at = 0; at < firmware.Length;)
        {
            Assert.True(firmware.Length - at >= 36, $"truncated table header at offset {at}");
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(firmware.AsSpan(at + 4));
            Assert.InRange(length, 36, firmware.Length - at);
            byte[] table = firmware[at..(at + length)];
            Assert.Equal(0, table.Aggregate(0, (s, b) => (s + b) & 0xFF)); // each table checksums to zero
            tables.Add((Encoding.ASCII.GetString(table, 0, 4), table));
            at += length;
        }
        Assert.Equal(["SSDT", "NFIT"], tables.Select(t => t.Signature));
        Assert.Equal(ssdt, tables[0].Bytes);
        Assert.Equal(nfit, tables[1].Bytes);
        Assert.Equal(ssdt.Length + nfit.Length, firmware.Length);
        Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian(ssdt.AsSpan(4)), (uint)ssdt.Length);
        Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian(nfit.AsSpan(4)), (uint)nfit.Length);
    }

    /// <summary>32-bit FNV-1a of the UTF-8 path (0 becomes 1): the documented stable-serial derivation.</summary>
    private static uint Fnv1a(string s)
    {
        uint h = 0x811C9DC5;
        foreach (byte b in Encoding.UTF8.GetBytes(s))
        {
            h ^= b;
            h *= 0x01000193;
        }
        return h == 0 ? 1 : h;
    }

    private static string RealPath(string path)
    {
        var r = ProcessRunner.Run("realpath", ["-e", path]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return r.Stdout.Trim();
    }

    /// <summary>How iasl prints an integer constant: Zero, One, or 0xNN.</summary>
    private static string AslInteger(uint v) => v switch { 0 => "Zero", 1 => "One", _ => $"0x{v:X2}" };

    private static string Disassemble(string outDir)
    {
        var r = ProcessRunner.Run("iasl", ["-d", "SSDT.aml"], outDir);
        Assert.True(r.ExitCode == 0, r.ToString());
        return File.ReadAllText(Path.Combine(outDir, "SSDT.dsl"));
    }

    /// <summary>Just enough of an NFIT walk (ACPI 6.x §5.2.25) for handles and serials, independent of our parser.</summary>
    private sealed record Nfit(List<(uint Handle, ushort DcrIndex)> MemoryDevices, Dictionary<ushort, uint> ControlRegionSerials)
    {
        public static Nfit Parse(byte[] t)
        {
            var memdevs = new List<(uint, ushort)>();
            var serials = new Dictionary<ushort, uint>();
            for (int at = 40; at < t.Length;)
            {
                ushort type = BinaryPrimitives.ReadUInt16LittleEndian(t.AsSpan(at));
                ushort length = BinaryPrimitives.ReadUInt16LittleEndian(t.AsSpan(at + 2));
                Assert.True(length >= 4, $"NFIT structure at {at} has length {length}");
                if (type == 1)
                    memdevs.Add((BinaryPrimitives.ReadUInt32LittleEndian(t.AsSpan(at + 4)), BinaryPrimitives.ReadUInt16LittleEndian(t.AsSpan(at + 14))));
                else if (type == 4)
                    serials[BinaryPrimitives.ReadUInt16LittleEndian(t.AsSpan(at + 4))] = BinaryPrimitives.ReadUInt32LittleEndian(t.AsSpan(at + 24));
                at += length;
            }
            return new Nfit(memdevs, serials);
        }
    }
}
