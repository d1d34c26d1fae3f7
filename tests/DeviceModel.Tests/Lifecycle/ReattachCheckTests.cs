using XenVnvdimm.DeviceModel;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Memory;

namespace XenVnvdimm.Tests.Lifecycle;

/// <summary>When a companion may take over a dead one's domain, and how a refusal names what differs.</summary>
public class ReattachCheckTests
{
    private const string StateFile = "/run/xen-vnvdimm/9.state";

    private static PlannedDevice Device(int slot, string backend, ulong gpa, ulong size = 16 << 20) =>
        new(slot, (uint)slot + 1, (ushort)((slot + 1) << 1), (ushort)(((slot + 1) << 1) + 1), gpa, size, backend,
            128 * 1024, backend + ".label", 0x1000u + (uint)slot, 0, false, 2 << 20);

    private static GuestLayout Layout(params PlannedDevice[] devices) =>
        new(devices, 16, 0x100000000, 0xFE000000, 0x0A18, 7, PersistenceDomain.Cpu);

    private static readonly FrameRun[] Runs0 = [new(0x100000, 0x100000, 4096)];

    private static CompanionRecord Serving(GuestLayout layout, params RecordedDevice[] devices) =>
        new(4242, "sim", DateTimeOffset.UnixEpoch, 9, CompanionRecord.Serving, RecordedLayout.Of(layout), 0xFE000, 1,
            "XEN_DOMCTL_memory_mapping", devices);

    [Fact]
    public void The_same_config_gives_the_recorded_layout_with_the_hot_added_devices()
    {
        var a = Device(0, "/srv/a.img", 0x100000000);
        var c = Device(1, "/srv/c.img", 0x101000000, 8 << 20);
        var record = Serving(Layout(a, c),
            RecordedDevice.Of(a, RecordedDevice.FromConfig, RecordedDevice.Mapped, Runs0),
            RecordedDevice.Of(c, RecordedDevice.FromHotAdd, RecordedDevice.Mapped, [new FrameRun(0x101000, 0x101000, 2048)]));

        var full = ReattachCheck.FullLayout(record, "sim", Layout(a), StateFile);

        Assert.Equal([a, c], full.Devices);
        ReattachCheck.EnsureSameFrames(record, a, Runs0, StateFile);
    }

    [Fact]
    public void A_changed_config_is_refused_naming_every_difference()
    {
        var a = Device(0, "/srv/a.img", 0x100000000);
        var record = Serving(Layout(a), RecordedDevice.Of(a, RecordedDevice.FromConfig, RecordedDevice.Mapped, Runs0));
        var changed = Layout(a with { Size = 8 << 20, Backend = "/srv/b.img", LabelFile = "/srv/a.img.label" }, Device(1, "/srv/d.img", 0x101000000))
            with { MailboxGpa = 0xFD000000 };

        var e = Assert.Throws<UserErrorException>(() => ReattachCheck.FullLayout(record, "sim", changed, StateFile));

        Assert.StartsWith("cannot re-attach to domain 9: the previous companion (pid=4242, platform=sim, started=1970-01-01T00:00:00.0000000+00:00) died, and the config differs", e.Message);
        Assert.Contains("dsm_mailbox is 0xfd000000 in the config but was 0xfe000000", e.Message);
        Assert.Contains("slot 0 backend is /srv/b.img in the config but was /srv/a.img", e.Message);
        Assert.Contains("slot 0 size is 8388608 in the config but was 16777216", e.Message);
        Assert.Contains("slot 1 (backend '/srv/d.img') is in the config but was not mapped", e.Message);
        Assert.EndsWith($"fix the config, or destroy the domain, or remove {StateFile} once the domain is gone", e.Message);
        Assert.Throws<UserErrorException>(() => ReattachCheck.FullLayout(record, "sim", Layout(), StateFile)); // slot 0 dropped
    }

    [Fact]
    public void Another_platform_a_start_up_or_a_hot_add_in_progress_is_refused()
    {
        var a = Device(0, "/srv/a.img", 0x100000000);
        var ok = RecordedDevice.Of(a, RecordedDevice.FromConfig, RecordedDevice.Mapped, Runs0);
        var record = Serving(Layout(a), ok);

        Assert.Contains("while serving with --platform sim, not xen",
            Assert.Throws<UserErrorException>(() => ReattachCheck.FullLayout(record, "xen", Layout(a), StateFile)).Message);
        Assert.Contains("died while starting",
            Assert.Throws<UserErrorException>(() => ReattachCheck.FullLayout(record with { Phase = CompanionRecord.Starting }, "sim", Layout(a), StateFile)).Message);
        var pending = record with { Devices = [ok, RecordedDevice.Of(Device(1, "/srv/c.img", 0x101000000), RecordedDevice.FromHotAdd, RecordedDevice.Mapping, [])] };
        Assert.Contains("died during the hot-add of slot 1 (backend '/srv/c.img'), whose frames may be partly mapped",
            Assert.Throws<UserErrorException>(() => ReattachCheck.FullLayout(pending, "sim", Layout(a), StateFile)).Message);
    }

    [Fact]
    public void A_backing_that_moved_is_refused_naming_the_first_frame_that_differs()
    {
        var a = Device(0, "/srv/a.img", 0x100000000);
        var record = Serving(Layout(a), RecordedDevice.Of(a, RecordedDevice.FromConfig, RecordedDevice.Mapped, [new FrameRun(0x100000, 0x100000, 2048), new FrameRun(0x100800, 0x200000, 2048)]));

        var e = Assert.Throws<UserErrorException>(() => ReattachCheck.EnsureSameFrames(record, a,
            [new FrameRun(0x100000, 0x100000, 2048), new FrameRun(0x100800, 0x300000, 2048)], StateFile));

        Assert.Contains("slot 0's backend '/srv/a.img' now resolves to other machine frames than the previous companion", e.Message);
        Assert.Contains("first difference at guest frame 0x100800", e.Message);
    }

    [Fact]
    public void A_record_survives_its_json()
    {
        var a = Device(0, "/srv/a.img", 0x100000000);
        var record = Serving(Layout(a), RecordedDevice.Of(a, RecordedDevice.FromConfig, RecordedDevice.Mapped, Runs0));
        var back = CompanionRecord.TryParse(System.Text.Encoding.UTF8.GetString(record.ToJson()));
        Assert.NotNull(back);
        Assert.Equal(record.Summary, back.Summary);
        Assert.Equal(a, Assert.Single(back.Devices).Device);
        Assert.Equal(Runs0, back.Devices[0].FrameRuns());
        Assert.Equal(record.Layout, back.Layout);
        Assert.Null(CompanionRecord.TryParse("pid=12\nplatform=sim\n")); // an older format, or a torn write
    }
}
