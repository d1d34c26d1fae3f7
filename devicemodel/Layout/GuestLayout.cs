using XenVnvdimm.DeviceModel.Config;

namespace XenVnvdimm.DeviceModel.Layout;

/// <summary>The planned guest view: every vNVDIMM's slot, handle, address and identity, plus the mailbox.</summary>
/// <param name="Devices">Devices ordered by slot.</param>
/// <param name="SlotCount">Slots pre-declared in the SSDT.</param>
/// <param name="WindowBase">Base of the vNVDIMM window.</param>
/// <param name="MailboxGpa">DSM mailbox page.</param>
/// <param name="DoorbellPort">Doorbell I/O port.</param>
/// <param name="EventIrq">Hot-add event interrupt, if any.</param>
/// <param name="Persistence">Advertised persistence domain.</param>
/// <param name="MemoryMap">The guest's RAM and fixed ranges every device is checked against (xen); null on qemu.</param>
/// <param name="BaseGiven">Whether vnvdimm_base came from the config (errors then name it).</param>
public sealed record GuestLayout(
    IReadOnlyList<PlannedDevice> Devices,
    int SlotCount,
    ulong WindowBase,
    ulong MailboxGpa,
    ushort DoorbellPort,
    uint? EventIrq,
    PersistenceDomain Persistence,
    GuestMemoryMap? MemoryMap = null,
    bool BaseGiven = false);
