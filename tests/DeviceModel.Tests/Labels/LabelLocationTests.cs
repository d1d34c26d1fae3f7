using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Labels;
using XenVnvdimm.DeviceModel.Layout;

namespace XenVnvdimm.Tests.Labels;

/// <summary>
/// Where a device's labels go when its entry names no file: a new guest's under the injected labels
/// root keyed by serial; a label file an earlier version created (BACKEND.label beside a file
/// backing, ROOT/&lt;device&gt;.label for a device) is still found; the log says which.
/// </summary>
public sealed class LabelLocationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xvnd-labelloc-").FullName;
    private readonly ListLogger _log = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Root => Path.Combine(_dir, "labels");

    private GuestLayout Plan(string entries) =>
        LayoutPlanner.Plan(VnvdimmConfig.FromFile(XlConfigFile.Parse($"vnvdimms = [ {entries} ]", "vm.cfg"), GuestPlatform.Xen, _log),
            _ => 2UL << 20, new LabelLocation(Root, _log));

    [Fact]
    public void ANewGuestsLabelsGoUnderTheRootKeyedBySerial()
    {
        string backend = Path.Combine(_dir, "vm1.img");
        var l = Plan($"'backend={backend}, serial=0xbeef'");
        Assert.Equal(Path.Combine(Root, "0000beef.label"), l.Devices[0].LabelFile);
        Assert.Contains($"vnvdimms[0]: labels in {Root}/0000beef.label (labels root, serial 0x0000beef)", _log.Lines);
    }

    [Fact]
    public void AnExistingBackendLabelBesideTheBackingIsStillUsed()
    {
        string backend = Path.Combine(_dir, "vm1.img");
        File.WriteAllBytes(backend + ".label", new byte[128 * 1024]);
        var l = Plan($"'backend={backend}, serial=0xbeef'");
        Assert.Equal(backend + ".label", l.Devices[0].LabelFile);
        Assert.Contains($"vnvdimms[0]: labels in {backend}.label, the file an earlier version created for {backend}", _log.Lines);
    }

    [Fact]
    public void ALinkAtTheOldNameCountsAsFoundSoOpeningRefusesIt()
    {
        string backend = Path.Combine(_dir, "vm1.img");
        File.CreateSymbolicLink(backend + ".label", Path.Combine(_dir, "nowhere"));
        Assert.Equal(backend + ".label", Plan($"'backend={backend}'").Devices[0].LabelFile);
    }

    [Fact]
    public void ADevicesLabelUnderItsOldNameIsStillUsed()
    {
        Directory.CreateDirectory(Root);
        File.WriteAllBytes(Path.Combine(Root, "dax0.1.label"), new byte[128 * 1024]);
        var l = Plan("'backend=/dev/dax0.1, size=2M, serial=0x77', 'backend=/dev/dax1.0, size=2M, serial=0x78'");
        Assert.Equal(Path.Combine(Root, "dax0.1.label"), l.Devices[0].LabelFile);
        Assert.Equal(Path.Combine(Root, "00000078.label"), l.Devices[1].LabelFile);
    }

    [Fact]
    public void AHotAddedDevicesLabelsFollowTheSameRule()
    {
        string a = Path.Combine(_dir, "a.img"), b = Path.Combine(_dir, "b.img");
        var l = Plan($"'backend={a}, serial=0x10'");
        var hot = LayoutPlanner.PlanHotAdd(l, VnvdimmDeviceSpec.Parse($"backend={b}, serial=0x11", "request r1"), _ => 2UL << 20, new LabelLocation(Root));
        Assert.Equal(Path.Combine(Root, "00000011.label"), hot.Devices[^1].LabelFile);
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }
}
