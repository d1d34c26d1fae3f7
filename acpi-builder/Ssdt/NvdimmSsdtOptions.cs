namespace XenVnvdimm.Acpi.Ssdt;

/// <summary>What the NVDIMM SSDT needs to know about the guest's layout.</summary>
/// <param name="MailboxGpa">Guest-physical address of the 4 KiB DSM mailbox page (below 4 GiB).</param>
/// <param name="DoorbellPort">I/O port the AML writes to ring the device model.</param>
/// <param name="SlotCount">NVDIMM slots to pre-declare (1..64); slot N has handle N+1.</param>
/// <param name="BootFit">The FIT at boot (NFIT sub-structures), returned by _FIT when no device model answers.</param>
/// <param name="EventIrq">ISA interrupt of the hot-add event device (GED), or null for none.</param>
public sealed record NvdimmSsdtOptions(uint MailboxGpa, ushort DoorbellPort, int SlotCount, byte[] BootFit, uint? EventIrq)
{
    /// <summary>Most slots the SSDT declares (NV00..NV3F).</summary>
    public const int MaxSlots = 64;

    /// <summary>The NFIT device handle (= _ADR) of a slot, numbered like QEMU.</summary>
    public static uint HandleOfSlot(int slot) => (uint)slot + 1;
}
