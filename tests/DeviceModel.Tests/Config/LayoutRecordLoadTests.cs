using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.DeviceModel;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Labels;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Tables;

namespace XenVnvdimm.Tests.Config;

/// <summary>
/// <c>run --layout</c> loads the layout <c>tables</c> recorded instead of planning again, and refuses a
/// record that does not describe the acpi_firmware beside it.
/// </summary>
public class LayoutRecordLoadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xvnd-load-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Backing(string name, long size)
    {
        string path = Path.Combine(_dir, name);
        using (var f = File.Create(path))
            f.SetLength(size);
        return path;
    }

    // What `tables --config CFG --out DIR` writes, through the same writers (tables/record/layout).
    private (string Config, GuestLayout Planned) Tables(string body, GuestPlatform platform = GuestPlatform.Xen)
    {
        string config = Path.Combine(_dir, "g.cfg");
        File.WriteAllText(config, "name = \"g\"\n" + body);
        var file = VnvdimmConfig.ReadFile(config);
        var labels = new LabelLocation(Path.Combine(_dir, "labels"));
        var layout = LayoutPlanner.Plan(VnvdimmConfig.FromFile(file, platform, NullLogger.Instance), labels: labels);
        var record = new LayoutRecord(_dir, "g", config, VnvdimmSettingsDigest.Of(file));
        File.WriteAllBytes(record.AcpiFirmwarePath, GuestTables.Build(layout).AcpiFirmware);
        File.WriteAllBytes(Path.Combine(_dir, LayoutRecord.FileName), LayoutJson.Write(layout, record, platform));
        return (config, layout);
    }

    private static void AssertSameLayout(GuestLayout expected, GuestLayout actual)
    {
        Assert.Equal(expected.Devices, actual.Devices); // PlannedDevice is a record of plain values
        Assert.Equal((expected.SlotCount, expected.WindowBase, expected.MailboxGpa, expected.DoorbellPort, expected.EventIrq, expected.Persistence, expected.BaseGiven),
            (actual.SlotCount, actual.WindowBase, actual.MailboxGpa, actual.DoorbellPort, actual.EventIrq, actual.Persistence, actual.BaseGiven));
        Assert.Equal(expected.MemoryMap?.Describe(), actual.MemoryMap?.Describe());
        Assert.Equal(expected.MemoryMap?.MmioHoleGiven, actual.MemoryMap?.MmioHoleGiven);
        Assert.Equal(GuestTables.Build(expected).AcpiFirmware, GuestTables.Build(actual).AcpiFirmware);
    }

    [Theory]
    [InlineData(GuestPlatform.Xen, "memory = 768\nmmio_hole = 3584\n", "")]
    [InlineData(GuestPlatform.Xen, "memory = 6144\nvnvdimm_persistence = \"cpu\"\nevent_irq = \"none\"\n", ",label_size=256K,serial=0x1234abcd")]
    [InlineData(GuestPlatform.Xen, "vnvdimm_base = \"0x800000000\"\ndsm_mailbox = \"0xFE200000\"\nvnvdimm_slots = 4\n", ",slot=2,unarmed=1,node=1")]
    [InlineData(GuestPlatform.Qemu, "vnvdimm_persistence = \"mem-ctrl\"\n", ",label_size=0")]
    public void TheLoadedLayoutIsThePlannedOne(GuestPlatform platform, string settings, string options)
    {
        string a = Backing("a.img", 64 << 20), b = Backing("b.img", 32 << 20);
        var (config, planned) = Tables(settings + $"vnvdimms = [ 'backend={a}{options}', 'backend={b}' ]\n", platform);
        var (record, loaded) = LayoutRecord.Verify(_dir, config, platform);
        Assert.Equal(config, record.ConfigPath);
        Assert.Equal(2, loaded.Devices.Count);
        AssertSameLayout(planned, loaded);
    }

    [Fact]
    public void AZeroDeviceLayoutLoadsWithItsFreeSlots()
    {
        var (config, planned) = Tables("memory = 512\nvnvdimms = [ ]\n");
        var (_, loaded) = LayoutRecord.Verify(_dir, config, GuestPlatform.Xen);
        Assert.Empty(loaded.Devices);
        AssertSameLayout(planned, loaded);
    }

    [Fact]
    public void ABackingThatGrewAfterTablesKeepsTheRecordedSizeTheGuestsNfitHas()
    {
        string a = Backing("a.img", 64 << 20);
        var (config, planned) = Tables($"vnvdimms = [ 'backend={a}' ]\n");
        using (var f = File.OpenWrite(a))
            f.SetLength(128 << 20);
        var (_, loaded) = LayoutRecord.Verify(_dir, config, GuestPlatform.Xen);
        Assert.Equal(64UL << 20, loaded.Devices[0].Size); // planning again would say 128 MiB, not the guest's NFIT
        AssertSameLayout(planned, loaded);
    }

    [Fact]
    public void ARecordForTheOtherPlatformIsRefused()
    {
        string a = Backing("a.img", 64 << 20);
        var (config, _) = Tables($"vnvdimms = [ 'backend={a}' ]\n", GuestPlatform.Qemu);
        var e = Assert.Throws<UserErrorException>(() => LayoutRecord.Verify(_dir, config, GuestPlatform.Xen));
        Assert.Equal($"{_dir}/layout.json does not hold a usable layout (it was written for --platform qemu, not xen); re-run tables", e.Message);
    }

    public static TheoryData<string, string, string> Tampered => new()
    {
        // A layout that parses but is not the guest's NFIT: refused by the comparison.
        { "devices.0.gpa", "\"0x300000000\"", "is not what" },
        { "devices.0.serial", "\"0x00000001\"", "is not what" },
        { "persistence", "\"cpu\"", "is not what" },
        // A layout that does not parse: refused naming the field.
        { "devices.0.gpa", "\"300000000\"", "'gpa' is not a 0x hex number" },
        { "devices.0.size", "-1", "'size' is not a whole number" },
        { "devices.0.slot", "\"0\"", "'slot' is missing or not a number" },
        { "devices.0.handle", "4294967296", "Arithmetic operation resulted in an overflow" },
        { "persistence", "\"flush\"", "'persistence' flush is unknown" },
        { "memory_map", "7", "'memory_map' is missing or not a object or null" },
        { "devices", "{}", "'devices' is missing or not a array" },
    };

    [Theory]
    [MemberData(nameof(Tampered))]
    public void ATamperedRecordIsRefusedWithOneLineNamingWhy(string field, string json, string why)
    {
        string a = Backing("a.img", 64 << 20);
        var (config, _) = Tables($"memory = 768\nvnvdimms = [ 'backend={a}' ]\n");
        string path = Path.Combine(_dir, LayoutRecord.FileName);
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        string[] parts = field.Split('.');
        JsonNode parent = root;
        foreach (string p in parts[..^1])
            parent = int.TryParse(p, out int i) ? parent[i]! : parent[p]!;
        parent[parts[^1]] = JsonNode.Parse(json);
        File.WriteAllText(path, root.ToJsonString());
        var e = Assert.Throws<UserErrorException>(() => LayoutRecord.Verify(_dir, config, GuestPlatform.Xen));
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
        Assert.EndsWith("; re-run tables", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void AMissingFirmwareIsRefused()
    {
        string a = Backing("a.img", 64 << 20);
        var (config, _) = Tables($"vnvdimms = [ 'backend={a}' ]\n");
        File.Delete(Path.Combine(_dir, "acpi_firmware.bin"));
        var e = Assert.Throws<UserErrorException>(() => LayoutRecord.Verify(_dir, config, GuestPlatform.Xen));
        Assert.StartsWith($"cannot read {_dir}/acpi_firmware.bin", e.Message, StringComparison.Ordinal);
    }
}
