using XenVnvdimm.DeviceModel.Layout;

namespace XenVnvdimm.DeviceModel.Config;

/// <summary>
/// The I/O ports and ISA interrupt lines the emulated PC (Xen + hvmloader + QEMU's PIIX3 machine)
/// already uses: dsm_port and event_irq must stay clear of them.
/// </summary>
public static class IsaResources
{
    /// <summary>
    /// Ports taken by the platform. Sources: QEMU hw/i386/pc.c, pc_piix.c, hw/acpi/piix4.c, pcihp.c,
    /// cpu_hotplug.c, memory_hotplug.c, hw/nvram/fw_cfg.c, hw/i386/xen/xen_platform.c; Xen 4.17
    /// xen/include/public/hvm/ioreq.h (ACPI_PM1A_*_V1, ACPI_GPE0_BLK_ADDRESS_V1), tools/libacpi/mk_dsdt.c (PHP, PCST, SEJ, PRST, DG1), tools/firmware/hvmloader/pci.c
    /// (PIIX4 PM base 0xb000, PCI I/O BARs from 0xc000) and xen/arch/x86/hvm (PIT, PIC, ELCR, RTC,
    /// PM timer, 0xe9 debug port, 0xcf8 PCI config).
    /// </summary>
    public static readonly IReadOnlyList<GuestRange> UsedPorts =
    [
        new("ISA system board ports (DMA, PIC, PIT, keyboard 0x60/0x64, RTC/CMOS 0x70, POST 0x80, PIC2 0xa0, Xen platform 0x10, Xen debug 0xe9)", 0x0000, 0x00FF),
        new("IDE secondary", 0x0170, 0x0177),
        new("Bochs VBE", 0x01CE, 0x01CF),
        new("IDE primary", 0x01F0, 0x01F7),
        new("parallel port LPT2", 0x0278, 0x027F),
        new("serial port COM4", 0x02E8, 0x02EF),
        new("serial port COM2", 0x02F8, 0x02FF),
        new("IDE secondary control", 0x0376, 0x0376),
        new("parallel port LPT1", 0x0378, 0x037F),
        new("VGA", 0x03B0, 0x03DF),
        new("serial port COM3", 0x03E8, 0x03EF),
        new("floppy controller / IDE primary control", 0x03F0, 0x03F7),
        new("serial port COM1", 0x03F8, 0x03FF),
        new("PIC edge/level control (ELCR)", 0x04D0, 0x04D1),
        new("QEMU fw_cfg", 0x0510, 0x051B),
        new("QEMU ACPI memory hotplug", 0x0A00, 0x0A17),
        new("PCI configuration / reset control", 0x0CF8, 0x0CFF),
        new("qemu-traditional ACPI PCI hotplug (libacpi mk_dsdt.c PHP)", 0x10C0, 0x1141),
        new("QEMU ACPI PCI hotplug", 0xAE00, 0xAE13),
        new("QEMU ACPI CPU hotplug", 0xAF00, 0xAF1F),
        new("ACPI GPE0 block", 0xAFE0, 0xAFE3),
        new("ACPI PM block (PM1a event/control, PM timer; libacpi's DG1 at 0xb044)", 0xB000, 0xB047),
        new("PCI I/O BAR space (hvmloader)", 0xC000, 0xFFFF),
    ];

    /// <summary>
    /// ISA lines free on each platform. Used on both: 0 PIT, 1 keyboard, 2 cascade, 3/4 COM2/COM1,
    /// 6 floppy, 8 RTC, 9 ACPI SCI (hvmloader's FADT, QEMU's PIIX4 PM), 12 PS/2 mouse, 13 FPU,
    /// 14/15 IDE. On Xen, hvmloader routes the PCI INTx links to 5, 10 and 11 (PCI_ISA_IRQ_MASK 0x0c20
    /// in hvmloader/config.h); the embedded QEMU guest (SeaBIOS) routes them to 10 and 11 only.
    /// Line 7 (LPT1) is free because libxl and scripts/guest/run start QEMU with -nodefaults.
    /// </summary>
    public static IReadOnlyList<uint> FreeIrqs(GuestPlatform platform) =>
        platform == GuestPlatform.Xen ? [7] : [5, 7];

    /// <summary>Why <paramref name="port"/> cannot be the doorbell, or null.</summary>
    public static string? WhyNotPort(ulong port) =>
        port is 0 or > 0xFFFF ? "is not an I/O port (1..0xffff)"
        : UsedPorts.FirstOrDefault(r => r.Overlaps(port, port)) is { } r ? $"is used by the guest's {r}" : null;
}
