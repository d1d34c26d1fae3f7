using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.DeviceModel;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Layout;

namespace XenVnvdimm.Tests.Layout;

/// <summary>Start and hot-add placement against the guest's memory map, and the bounds of the config's keys.</summary>
public class PlacementTests
{
    private static VnvdimmConfig Load(string text, GuestPlatform platform = GuestPlatform.Xen) =>
        VnvdimmConfig.FromFile(XlConfigFile.Parse(text, "test.cfg"), platform, NullLogger.Instance);

    private static GuestLayout Plan(string text) => LayoutPlanner.Plan(Load(text), _ => 1UL << 30);

    private static string Refusal(string text) => Assert.Throws<UserErrorException>(() => Plan(text)).Message;

    [Fact]
    public void DefaultBaseGoesAboveA768MiBGuestsHighRam()
    {
        var l = Plan("memory = 768\nmmio_hole = 3584\nvnvdimms = [ 'backend=/a, size=64M' ]");
        Assert.Equal(0x140000000UL, l.WindowBase);
        Assert.Equal(0x140000000UL, l.Devices[0].Gpa);
    }

    [Fact]
    public void DefaultBaseGoesAboveA6GiBGuest()
    {
        var l = Plan("memory = 6144\nvnvdimms = [ 'backend=/a, size=64M' ]");
        Assert.Equal(0x1C0000000UL, l.Devices[0].Gpa);
    }

    [Fact]
    public void AnExplicitBaseInHighRamIsRefusedNamingKeyAndRange()
    {
        Assert.Equal(
            "vnvdimm_base 0x100000000: the base overlaps the guest's high RAM 0x100000000-0x10fffffff (memory=768, mmio_hole=3584)",
            Refusal("memory = 768\nmmio_hole = 3584\nvnvdimm_base = 0x100000000\nvnvdimms = [ 'backend=/a, size=1G' ]"));
    }

    [Fact]
    public void AWindowRunningIntoHighRamIsRefused()
    {
        // Base below 4 GiB in a gap of the hole; the 64 MiB device (16 MiB-aligned) lands on the BIOS area and RAM.
        Assert.Equal(
            "vnvdimm_base 0xfe800000: the window 0xff000000-0x102ffffff overlaps the BIOS area 0xff000000-0xffffffff (memory=6144, default mmio_hole=256)",
            Refusal("memory = 6144\nvnvdimm_base = \"0xFE800000\"\nvnvdimms = [ 'backend=/a, size=64M' ]"));
    }

    [Theory]
    [InlineData("vnvdimm_base = 0", "vnvdimm_base 0x0")]
    [InlineData("vnvdimm_base = 0x10000000", "vnvdimm_base 0x10000000: the base overlaps the guest's low RAM 0x0-0x3fffffff")]
    [InlineData("vnvdimm_base = \"0xFEC00000\"", "vnvdimm_base 0xfec00000: the base overlaps the IOAPIC")]
    [InlineData("vnvdimm_base = \"0xFEFF8000\"", "Xen's special pages")]
    [InlineData("dsm_mailbox = 0x10000000", "dsm_mailbox 0x10000000: the page 0x10000000-0x10000fff overlaps the guest's low RAM 0x0-0x3fffffff (memory=1024, default mmio_hole=256)")]
    [InlineData("dsm_mailbox = \"0xFEE00000\"", "dsm_mailbox 0xfee00000: the page 0xfee00000-0xfee00fff overlaps the local APIC")]
    [InlineData("dsm_mailbox = \"0xFFFFFFFFFFFFF000\"", "dsm_mailbox 0xfffffffffffff000 must be a 4K-aligned page below 4 GiB")]
    [InlineData("mmio_hole = 100", "mmio_hole 100 is outside 256..3840")]
    [InlineData("memory = \"2G\"", "memory '2G' is not a whole number of MiB")]
    [InlineData("dsm_port = \"0xCF9\"", "dsm_port 0xCF9 is used by the guest's PCI configuration / reset control 0xcf8-0xcff")]
    [InlineData("dsm_port = 0x64", "dsm_port 0x64 is used by the guest's ISA system board ports")]
    [InlineData("dsm_port = \"0x3F8\"", "dsm_port 0x3F8 is used by the guest's serial port COM1")]
    [InlineData("dsm_port = 0x511", "dsm_port 0x511 is used by the guest's QEMU fw_cfg")]
    [InlineData("dsm_port = \"0xB004\"", "dsm_port 0xB004 is used by the guest's ACPI PM block")]
    [InlineData("dsm_port = \"0xB044\"", "dsm_port 0xB044 is used by the guest's ACPI PM block")]
    [InlineData("dsm_port = \"0xAFE2\"", "dsm_port 0xAFE2 is used by the guest's ACPI GPE0 block")]
    [InlineData("dsm_port = \"0xAE08\"", "dsm_port 0xAE08 is used by the guest's QEMU ACPI PCI hotplug")]
    [InlineData("dsm_port = \"0x10C0\"", "dsm_port 0x10C0 is used by the guest's qemu-traditional ACPI PCI hotplug")]
    [InlineData("dsm_port = \"0x3C0\"", "dsm_port 0x3C0 is used by the guest's VGA")]
    [InlineData("dsm_port = 0x10000", "dsm_port 0x10000 is not an I/O port")]
    [InlineData("event_irq = 9", "event_irq 9 must be an ISA interrupt the xen platform leaves free (7)")]
    [InlineData("event_irq = 5", "event_irq 5 must be an ISA interrupt the xen platform leaves free (7)")]
    [InlineData("event_irq = 4", "event_irq 4 must be")]
    [InlineData("event_irq = 16", "event_irq 16 must be")]
    public void BadKeysAreRefusedNamingTheKey(string line, string expected) =>
        Assert.Contains(expected, Refusal($"memory = 1024\n{line}\nvnvdimms = [ 'backend=/a, size=2M' ]"));

    [Theory]
    [InlineData("label_size=2G", "vnvdimms[0]: label_size 2G is above the 1M maximum")]
    [InlineData("label_size=1028K", "vnvdimms[0]: label_size 1028K is above the 1M maximum")]
    public void LabelSizeIsCapped(string key, string expected) =>
        Assert.Contains(expected, Refusal($"vnvdimms = [ 'backend=/a, size=2M, {key}' ]"));

    [Fact]
    public void TheDefaultsAndTheEdgesOfTheBoundsAreAccepted()
    {
        var c = Load("memory = 768\nmmio_hole = 3584\ndsm_port = \"0x0A18\"\nevent_irq = 7\nvnvdimms = [ 'backend=/a, size=2M, label_size=1M' ]");
        Assert.Equal((ushort)0x0A18, c.DoorbellPort);
        Assert.Equal(7u, c.EventIrq);
        Assert.Equal(1UL << 20, c.Devices[0].LabelSize);
        Assert.Equal(0xFE000000UL, c.MailboxGpa);
        Assert.Equal(5u, Load("event_irq = 5\nvnvdimms = []", GuestPlatform.Qemu).EventIrq);
        // The qemu guest is not built by libxl: its window default stays at 4 GiB.
        Assert.Equal(4UL << 30, Load("memory = 6144\nvnvdimms = []", GuestPlatform.Qemu).WindowBase);
        Assert.Null(Load("vnvdimms = []", GuestPlatform.Qemu).MemoryMap);
    }

    [Fact]
    public void HotAddIsRefusedWhenItWouldOverlapTheMailbox()
    {
        // Window just below the mailbox: the first device fits, the hot-added one would reach over 0xFE000000.
        var l = Plan("memory = 1024\nvnvdimm_base = \"0xFE000000\"\ndsm_mailbox = \"0xFE800000\"\nvnvdimms = [ 'backend=/a, size=4K, align=4K, label_size=0' ]");
        var e = Assert.Throws<UserErrorException>(() =>
            LayoutPlanner.PlanHotAdd(l, VnvdimmDeviceSpec.Parse("backend=/b, size=8M", "hot"), _ => 1UL << 30));
        Assert.Equal("hot: guest range 0xfe200000-0xfe9fffff overlaps dsm_mailbox 0xfe800000", e.Message);
    }

    [Fact]
    public void HotAddIsRefusedWhenItWouldReachTheHolesFixedRanges()
    {
        // A window explicitly in a gap of the hole (0xFE800000-0xFEBFFFFF): a 2 MiB device fits, the next 4 MiB reach the IOAPIC.
        var l = Plan("memory = 1024\nvnvdimm_base = \"0xFE800000\"\nvnvdimms = [ 'backend=/a, size=2M' ]");
        Assert.Single(l.Devices);
        var e = Assert.Throws<UserErrorException>(() =>
            LayoutPlanner.PlanHotAdd(l, VnvdimmDeviceSpec.Parse("backend=/b, size=4M", "hot"), _ => 1UL << 30));
        Assert.Equal("hot: vnvdimm_base 0xfe800000: the window 0xfea00000-0xfedfffff overlaps the IOAPIC 0xfec00000-0xfec00fff (memory=1024, default mmio_hole=256)", e.Message);
    }

    [Fact]
    public void HotAddIntoAGuestsRamWithAnExplicitBaseIsRefused()
    {
        // 6 GiB guest: high RAM 0x100000000-0x18fffffff. An (old-default) base of 4 GiB is refused at start already...
        Assert.Contains("overlaps the guest's high RAM 0x100000000-0x18fffffff",
            Refusal("memory = 6144\nvnvdimm_base = 0x100000000\nvnvdimms = []"));
        // ...and a layout that ends just below RAM refuses the hot-add that would cross into it.
        var l = Plan("memory = 6144\nmaxmem = 6144\nvnvdimm_base = \"0xFE800000\"\nvnvdimms = []");
        var e = Assert.Throws<UserErrorException>(() =>
            LayoutPlanner.PlanHotAdd(l, VnvdimmDeviceSpec.Parse("backend=/b, size=2G, align=1G", "hot"), _ => 4UL << 30));
        Assert.Equal("hot: vnvdimm_base 0xfe800000: the window 0x100000000-0x17fffffff overlaps the guest's high RAM 0x100000000-0x18fffffff (memory=6144, default mmio_hole=256)", e.Message);
    }

    [Fact]
    public void StartAndHotAddPlaceTheSameDevicesAtTheSameAddresses()
    {
        // One rule: planning [a, b] at start and planning a, then hot-adding b, give the same b.
        var both = Plan("memory = 768\nmmio_hole = 3584\nvnvdimms = [ 'backend=/a, size=6M', 'backend=/b, size=32M' ]");
        var one = Plan("memory = 768\nmmio_hole = 3584\nvnvdimms = [ 'backend=/a, size=6M' ]");
        var hot = LayoutPlanner.PlanHotAdd(one, VnvdimmDeviceSpec.Parse("backend=/b, size=32M", "vnvdimms[1]"), _ => 1UL << 30);
        Assert.Equal(both.Devices.Select(d => (d.Slot, d.Gpa, d.Size, d.Serial)), hot.Devices.Select(d => (d.Slot, d.Gpa, d.Size, d.Serial)));
        Assert.Same(one.MemoryMap, hot.MemoryMap);
    }
}
