using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// <c>xen-vnvdimm host-scan</c> as a process: on this machine (whatever pmem it has, read here
/// straight from sysfs) and on synthetic sysfs roots (<c>--sysfs</c>) whose NFIT is assembled byte
/// by byte in the test from ACPI's layout, not by our builder.
/// </summary>
public class HostScanCommandTests
{
    private const ulong GiB = 1UL << 30, MiB = 1UL << 20;

    [Fact]
    public void JsonOnThisMachineReportsExactlyWhatSysfsHoldsAndExplainsEmptySources()
    {
        // The peer: this machine's sysfs, read directly.
        bool hasNfit = File.Exists("/sys/firmware/acpi/tables/NFIT");
        int e820Pmem = Directory.Exists("/sys/firmware/memmap")
            ? Directory.GetDirectories("/sys/firmware/memmap").Count(d => ReadOrEmpty(Path.Combine(d, "type")).StartsWith("Persistent Memory", StringComparison.Ordinal))
            : 0;
        int regions = Directory.Exists("/sys/bus/nd/devices")
            ? Directory.GetFileSystemEntries("/sys/bus/nd/devices", "region*").Count(r => ReadOrEmpty(Path.Combine(r, "resource")).StartsWith("0x", StringComparison.Ordinal))
            : 0;

        var r = ProcessRunner.XenVnvdimm("host-scan", "--json");
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal(["nfit", "e820", "regions", "disagreements", "notes"], root.EnumerateObject().Select(p => p.Name));
        foreach (string source in new[] { "nfit", "e820", "regions" })
            Assert.All(root.GetProperty(source).EnumerateArray(), range =>
                Assert.Equal(["source", "name", "start", "length"], range.EnumerateObject().Select(p => p.Name)));
        Assert.Equal(e820Pmem, root.GetProperty("e820").GetArrayLength());
        Assert.Equal(regions, root.GetProperty("regions").GetArrayLength());
        if (!hasNfit)
            Assert.Equal(0, root.GetProperty("nfit").GetArrayLength());
        int disagreements = root.GetProperty("disagreements").GetArrayLength();
        Assert.Equal(disagreements == 0 ? 0 : 1, r.ExitCode);

        var notes = root.GetProperty("notes").EnumerateArray().Select(n => n.GetString()!).ToList();
        if (!hasNfit)
            Assert.Contains("NFIT: /sys/firmware/acpi/tables/NFIT does not exist (the firmware describes no NVDIMMs)", notes);
        if (e820Pmem == 0)
            Assert.Contains(notes, n => n.StartsWith("E820: ", StringComparison.Ordinal) && n.Contains("/sys/firmware/memmap", StringComparison.Ordinal));
        if (regions == 0)
            Assert.Contains(notes, n => n.StartsWith("nd: ", StringComparison.Ordinal) && n.Contains("/sys/bus/nd/devices", StringComparison.Ordinal));

        if (!hasNfit && e820Pmem == 0 && regions == 0)
        {
            // This machine (no pmem): nothing found, nothing to disagree about, three reasons, exit 0.
            Assert.Equal(0, r.ExitCode);
            Assert.Equal(3, notes.Count);
            var text = ProcessRunner.XenVnvdimm("host-scan");
            Assert.Equal(0, text.ExitCode);
            Assert.Contains("no persistent memory found", text.Stdout, StringComparison.Ordinal);
            Assert.Contains("note  NFIT: /sys/firmware/acpi/tables/NFIT does not exist", text.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void SyntheticRootWhereNfitE820AndNdAgree()
    {
        using var d = new TempDir();
        Tree(d.Path, Nfit((1, Pmem, 4 * GiB, 512 * MiB), (2, Volatile, 8 * GiB, 256 * MiB)),
            [("0", 0, 0x9fbff, "System RAM"), ("3", 4 * GiB, 4 * GiB + 512 * MiB - 1, "Persistent Memory")],
            [("region0", 4 * GiB, 512 * MiB)]);

        var r = ProcessRunner.XenVnvdimm("host-scan", "--json", "--sysfs", d.Path);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        // The volatile SPA range and the RAM entry are not persistent memory.
        Assert.Equal([("NFIT", "spa1", 4 * GiB, 512 * MiB)], Ranges(root, "nfit"));
        Assert.Equal([("E820", "memmap3 (Persistent Memory)", 4 * GiB, 512 * MiB)], Ranges(root, "e820"));
        Assert.Equal([("nd", "region0", 4 * GiB, 512 * MiB)], Ranges(root, "regions"));
        Assert.Equal(0, root.GetProperty("disagreements").GetArrayLength());
        Assert.Equal(0, root.GetProperty("notes").GetArrayLength());
    }

    [Fact]
    public void SyntheticRootDisagreementsExitOneAndAMissingSourceIsExplained()
    {
        using var d = new TempDir();
        // A legacy (type 12) E820 entry, an nd region that is 2 MiB short and a second region nobody describes.
        Tree(d.Path, Nfit((1, Pmem, 4 * GiB, 512 * MiB)),
            [("1", 4 * GiB, 4 * GiB + 512 * MiB - 1, "Persistent Memory (legacy)")],
            [("region0", 4 * GiB, 510 * MiB), ("region1", 36 * GiB, 128 * MiB)]);
        var r = ProcessRunner.XenVnvdimm("host-scan", "--json", "--sysfs", d.Path);
        Assert.True(r.ExitCode == 1, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        var problems = doc.RootElement.GetProperty("disagreements").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(
            [
                "NFIT spa1 [0x100000000, 0x120000000) has no nd region with the same base and size",
                "nd region1 [0x900000000, 0x908000000) is described by neither the NFIT nor E820",
            ],
            problems);
        Assert.Equal([("E820", "memmap1 (Persistent Memory (legacy))", 4 * GiB, 512 * MiB)], Ranges(doc.RootElement, "e820"));

        var text = ProcessRunner.XenVnvdimm("host-scan", "--sysfs", d.Path);
        Assert.Equal(1, text.ExitCode);
        Assert.Contains("DISAGREE nd region1 [0x900000000, 0x908000000) is described by neither the NFIT nor E820", text.Stdout, StringComparison.Ordinal);

        // Without the memmap directory the E820 source is empty, and the report says why.
        Directory.Delete(Path.Combine(d.Path, "firmware", "memmap"), recursive: true);
        var noE820 = ProcessRunner.XenVnvdimm("host-scan", "--json", "--sysfs", d.Path);
        using var doc2 = JsonDocument.Parse(noE820.Stdout);
        Assert.Equal([$"E820: {Path.Combine(d.Path, "firmware", "memmap")} does not exist"],
            doc2.RootElement.GetProperty("notes").EnumerateArray().Select(e => e.GetString()!));
        Assert.Contains(doc2.RootElement.GetProperty("disagreements").EnumerateArray(),
            e => e.GetString() == "NFIT spa1 [0x100000000, 0x120000000) is not inside any E820 persistent-memory entry");
    }

    [Fact]
    public void CorruptNfitIsAUserErrorNamingTheFile()
    {
        using var d = new TempDir();
        byte[] nfit = Nfit((1, Pmem, 4 * GiB, 512 * MiB));
        nfit[9] ^= 0x5A; // the checksum byte
        Tree(d.Path, nfit, [], []);
        var r = ProcessRunner.XenVnvdimm("host-scan", "--json", "--sysfs", d.Path);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        string line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(Path.Combine(d.Path, "firmware", "acpi", "tables", "NFIT"), line, StringComparison.Ordinal);
        Assert.Contains("checksum", line, StringComparison.Ordinal);
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static List<(string, string, ulong, ulong)> Ranges(JsonElement root, string source) =>
        root.GetProperty(source).EnumerateArray()
            .Select(e => (e.GetProperty("source").GetString()!, e.GetProperty("name").GetString()!, e.GetProperty("start").GetUInt64(), e.GetProperty("length").GetUInt64()))
            .ToList();

    private static void Tree(string root, byte[]? nfit, (string Name, ulong Start, ulong End, string Type)[] memmap, (string Name, ulong Start, ulong Size)[] regions)
    {
        if (nfit is not null)
        {
            Directory.CreateDirectory(Path.Combine(root, "firmware", "acpi", "tables"));
            File.WriteAllBytes(Path.Combine(root, "firmware", "acpi", "tables", "NFIT"), nfit);
        }
        foreach (var m in memmap)
        {
            string dir = Path.Combine(root, "firmware", "memmap", m.Name);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "start"), $"0x{m.Start:x}\n");
            File.WriteAllText(Path.Combine(dir, "end"), $"0x{m.End:x}\n");
            File.WriteAllText(Path.Combine(dir, "type"), m.Type + "\n");
        }
        foreach (var g in regions)
        {
            string dir = Path.Combine(root, "bus", "nd", "devices", g.Name);
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "resource"), $"0x{g.Start:x}\n");
            File.WriteAllText(Path.Combine(dir, "size"), $"{g.Size}\n");
        }
    }

    // ACPI 6.x §5.2.25.2 address range type GUIDs, in the mixed-endian byte order the table stores.
    private static readonly Guid Pmem = new("66f0d379-b4f3-4074-ac43-0d3318b78cdb");
    private static readonly Guid Volatile = new("7305944f-fdda-44e3-b16c-3f22d252e5d0");

    /// <summary>An NFIT of SPA range structures only (type 0, 56 bytes each), checksummed.</summary>
    private static byte[] Nfit(params (ushort Index, Guid Type, ulong Base, ulong Length)[] ranges)
    {
        var t = new byte[40 + 56 * ranges.Length];
        Encoding.ASCII.GetBytes("NFIT").CopyTo(t, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(t.AsSpan(4), (uint)t.Length);
        t[8] = 1;                                                   // revision
        Encoding.ASCII.GetBytes("XVTEST").CopyTo(t, 10);            // OEM id
        Encoding.ASCII.GetBytes("HOSTSCAN").CopyTo(t, 16);          // OEM table id
        for (int i = 0; i < ranges.Length; i++)
        {
            var s = t.AsSpan(40 + 56 * i, 56);
            BinaryPrimitives.WriteUInt16LittleEndian(s, 0);         // type: SPA range
            BinaryPrimitives.WriteUInt16LittleEndian(s[2..], 56);
            BinaryPrimitives.WriteUInt16LittleEndian(s[4..], ranges[i].Index);
            ranges[i].Type.ToByteArray().CopyTo(s[16..]);
            BinaryPrimitives.WriteUInt64LittleEndian(s[32..], ranges[i].Base);
            BinaryPrimitives.WriteUInt64LittleEndian(s[40..], ranges[i].Length);
            BinaryPrimitives.WriteUInt64LittleEndian(s[48..], 0x8008); // WB | NV
        }
        byte sum = 0;
        foreach (byte b in t)
            sum += b;
        t[9] = (byte)-sum;
        return t;
    }
}
