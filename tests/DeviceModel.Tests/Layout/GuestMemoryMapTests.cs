using XenVnvdimm.DeviceModel;
using XenVnvdimm.DeviceModel.Layout;

namespace XenVnvdimm.Tests.Layout;

/// <summary>
/// The memory map against libxl 4.17's rules, with expected values worked out by hand from them
/// (libxl_dom.c libxl__build_hvm): mmio_start = 4 GiB − mmio_hole (default 256 MiB → 0xF0000000);
/// lowmem_end = min(maxmem, mmio_start); highmem_end = 4 GiB + maxmem − lowmem_end when maxmem passes
/// mmio_start; maxmem defaults to memory (xl_parse.c), both to 32 MiB (libxl_create.c).
/// </summary>
public class GuestMemoryMapTests
{
    [Fact]
    public void A768MiBGuestWithA3584MiBHoleHas256MiBAt4GiB()
    {
        // hole 3584 MiB → mmio_start 4096 − 3584 = 512 MiB = 0x20000000; 768 − 512 = 256 MiB high.
        var m = GuestMemoryMap.Xen(768, null, 3584);
        Assert.Equal(0x20000000UL, m.MmioStart);
        Assert.Equal(0x20000000UL, m.LowRamEnd);
        Assert.Equal(0x110000000UL, m.HighRamEnd);
        Assert.Equal(0x140000000UL, m.DefaultWindowBase); // first 1 GiB boundary above 0x10fffffff: 5 GiB
    }

    [Fact]
    public void A6GiBGuestWithTheDefaultHoleEndsAt6GiBPlus256MiB()
    {
        // 6144 MiB, default hole: low RAM to 0xF0000000 (3840 MiB), 6144 − 3840 = 2304 MiB high
        // → 4 GiB + 2304 MiB = 0x190000000; next 1 GiB boundary 7 GiB = 0x1C0000000.
        var m = GuestMemoryMap.Xen(6144, null, null);
        Assert.Equal(0xF0000000UL, m.LowRamEnd);
        Assert.Equal(0x190000000UL, m.HighRamEnd);
        Assert.Equal(0x1C0000000UL, m.DefaultWindowBase);
    }

    [Theory]
    [InlineData(null, null, 32UL, 0UL)]          // libxl's 32 MiB default, all below the hole
    [InlineData(1024UL, null, 1024UL, 0UL)]
    [InlineData(3840UL, null, 3840UL, 0UL)]      // exactly fills to 0xF0000000: nothing above 4 GiB
    [InlineData(3841UL, null, 3840UL, 1UL)]      // one MiB more goes to 4 GiB
    [InlineData(512UL, 4096UL, 3840UL, 256UL)]   // maxmem, not memory, sizes the layout
    public void LowAndHighRamFollowLibxl(ulong? memory, ulong? maxmem, ulong lowMiB, ulong highMiB)
    {
        var m = GuestMemoryMap.Xen(memory, maxmem, null);
        Assert.Equal(lowMiB << 20, m.LowRamEnd);
        Assert.Equal(highMiB == 0 ? 0 : (1UL << 32) + (highMiB << 20), m.HighRamEnd);
        Assert.Equal(highMiB == 0 ? 1UL << 32 : ((1UL << 32) + (highMiB << 20) + (1UL << 30) - 1) & ~((1UL << 30) - 1), m.DefaultWindowBase);
    }

    [Theory]
    [InlineData(null, null, 255UL, "mmio_hole 255 is outside 256..3840")]
    [InlineData(null, null, 3841UL, "mmio_hole 3841 is outside 256..3840")]
    [InlineData(0UL, null, null, "memory 0 is outside")]
    [InlineData(null, 0UL, null, "maxmem 0 is outside")]
    [InlineData(1UL << 40, null, null, "memory 1099511627776 is outside")]
    public void SettingsXlRefusesAreRefused(ulong? memory, ulong? maxmem, ulong? hole, string expected)
    {
        var e = Assert.Throws<UserErrorException>(() => GuestMemoryMap.Xen(memory, maxmem, hole));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData(0xFEC00000UL, "the IOAPIC")]
    [InlineData(0xFED00000UL, "the HPET")]
    [InlineData(0xFEE00000UL, "the local APIC")]
    [InlineData(0xFEFFF000UL, "Xen's special pages")]
    [InlineData(0xFC000000UL, "hvmloader's ACPI area")]
    [InlineData(0xFD000000UL, "hvmloader's dynamic reserved area")]
    [InlineData(0xFFFFF000UL, "the BIOS area")]
    [InlineData(0xE0000000UL, "hvmloader's PCI MMIO space")]
    [InlineData(0x1000UL, "overlaps the guest's low RAM 0x0-0x3fffffff")]
    [InlineData(0x50000000UL, "hvmloader's PCI MMIO space")] // above RAM, below the 256 MiB hole: hvmloader may grow the BAR space down to here
    public void TheMailboxMustAvoidTheHolesFixedRanges(ulong gpa, string expected)
    {
        var why = GuestMemoryMap.Xen(1024, null, null).WhyNotMailbox(gpa);
        Assert.NotNull(why);
        Assert.Contains(expected, why);
    }

    [Theory]
    [InlineData(0xFE000000UL)] // the lab-proven default
    [InlineData(0xFE001000UL)]
    [InlineData(0xFE800000UL)]
    public void MailboxPagesClearOfTheFixedRangesAreAccepted(ulong gpa) =>
        Assert.Null(GuestMemoryMap.Xen(768, null, 3584).WhyNotMailbox(gpa));
}
