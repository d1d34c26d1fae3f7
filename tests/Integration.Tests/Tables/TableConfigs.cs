using System.Text;
using System.Text.Json;

namespace XenVnvdimm.Tests.Integration;

/// <summary>The configurations the tables are judged on, and how to build them through the CLI.</summary>
public static class TableConfigs
{
    public const long MiB = 1 << 20;

    /// <summary>One device.</summary>
    public static string One(TempDir d) =>
        $"vnvdimms = [ 'backend={d.Sparse("one.img", 256 * MiB)}' ]\n";

    /// <summary>Four devices of different sizes, one unarmed, two proximity domains, one without labels.</summary>
    public static string Four(TempDir d) =>
        "name = \"guest4\"   # unknown keys are ignored\n" +
        "memory = 2048\n" +
        "vnvdimms = [\n" +
        $"  'backend={d.Sparse("a.img", 64 * MiB)}, node=0',\n" +
        $"  'backend={d.Sparse("b.img", 128 * MiB)}, unarmed=1, node=1',\n" +
        $"  'backend={d.Sparse("c.img", 32 * MiB)}, label_size=0, node=1',\n" +
        $"  'backend={d.Sparse("d.img", 1024 * MiB)}, size=512M, label_size=256K, serial=0xabc, slot=7'\n" +
        "]\n" +
        "vnvdimm_persistence = 'cpu'\n";

    /// <summary>Sixty-four 2 MiB devices.</summary>
    public static string SixtyFour(TempDir d)
    {
        var sb = new StringBuilder("vnvdimms = [\n");
        for (int i = 0; i < 64; i++)
            sb.Append($"  'backend={d.File($"d{i}.img")}, size=2M',\n");
        sb.Append("]\n");
        return sb.ToString();
    }

    /// <summary>Writes the config and runs <c>xen-vnvdimm tables</c>; returns the output directory.</summary>
    public static string Build(TempDir d, string config, string platform)
    {
        System.IO.File.WriteAllText(d.File("vm.cfg"), config);
        string outDir = d.File($"out-{platform}");
        var r = ProcessRunner.XenVnvdimm("tables", "--config", d.File("vm.cfg"), "--out", outDir, "--platform", platform);
        Assert.True(r.ExitCode == 0, r.ToString());
        return outDir;
    }

    /// <summary>Parsed layout.json.</summary>
    public static JsonElement Layout(string outDir) =>
        JsonDocument.Parse(System.IO.File.ReadAllBytes(Path.Combine(outDir, "layout.json"))).RootElement;
}
