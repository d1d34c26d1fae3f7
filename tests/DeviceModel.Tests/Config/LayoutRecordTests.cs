using System.Text.Json;
using XenVnvdimm.DeviceModel;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Tables;

namespace XenVnvdimm.Tests.Config;

/// <summary>The layout record's staleness check: which config changes make tables re-run.</summary>
public class LayoutRecordTests : IDisposable
{
    private const string Base = "name = \"g\"\nmemory = 768\nvnvdimms = [ 'backend=/a' ]\n";
    private readonly string _dir = Directory.CreateTempSubdirectory("xvnd-record-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Write(string config, int version = LayoutRecord.Version) =>
        File.WriteAllText(Path.Combine(_dir, LayoutRecord.FileName), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["version"] = version, ["name"] = "g", ["config"] = "/etc/xen/g.cfg",
            ["config_digest"] = VnvdimmSettingsDigest.Of(XlConfigFile.Parse(config, "g.cfg")),
        }));

    [Theory]
    [InlineData("vnvdimms += [ 'backend=/b' ]\n")]
    [InlineData("memory = 1024\n")]
    [InlineData("maxmem = 2048\n")]
    [InlineData("mmio_hole = 3584\n")]
    [InlineData("dsm_mailbox = \"0xFD000000\"\n")]
    [InlineData("vnvdimm_persistence = \"cpu\"\n")]
    [InlineData("event_irq = \"none\"\n")]
    public void ChangedLayoutSettingsMakeTheRecordStale(string change)
    {
        Write(Base);
        var e = Assert.Throws<UserErrorException>(() => LayoutRecord.Load(_dir, XlConfigFile.Parse(Base + change, "g.cfg")));
        Assert.Equal($"the vNVDIMM settings of g.cfg changed after `xen-vnvdimm tables` wrote {_dir}; re-run tables", e.Message);
    }

    [Theory]
    [InlineData("vcpus = 4\n")]
    [InlineData("on_reboot = \"restart\"\n")]
    [InlineData("# a comment\n")]
    public void OtherSettingsDoNot(string change)
    {
        Write(Base);
        var r = LayoutRecord.Load(_dir, XlConfigFile.Parse(Base + change, "g.cfg"));
        Assert.Equal(("g", "/etc/xen/g.cfg"), (r.Name, r.ConfigPath));
    }

    [Fact]
    public void AnotherVersionOrNoRecordIsRefused()
    {
        var none = Assert.Throws<UserErrorException>(() => LayoutRecord.Read(_dir));
        Assert.StartsWith($"no layout record in {_dir}", none.Message, StringComparison.Ordinal);
        Write(Base, version: 0);
        var old = Assert.Throws<UserErrorException>(() => LayoutRecord.Read(_dir));
        Assert.EndsWith($"is a version 0 layout record, this xen-vnvdimm reads version {LayoutRecord.Version}; re-run tables", old.Message, StringComparison.Ordinal);
    }
}
