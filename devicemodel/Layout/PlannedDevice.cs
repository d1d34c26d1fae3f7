namespace XenVnvdimm.DeviceModel.Layout;

/// <summary>One vNVDIMM placed in the guest.</summary>
/// <param name="Slot">Slot number (0..63); the SSDT device is NV{slot:X2}.</param>
/// <param name="Handle">NFIT device handle (= the slot device's _ADR).</param>
/// <param name="SpaIndex">NFIT SPA range index.</param>
/// <param name="DcrIndex">NFIT control region index.</param>
/// <param name="Gpa">Guest-physical base.</param>
/// <param name="Size">Guest-visible size in bytes.</param>
/// <param name="Backend">Backing store path.</param>
/// <param name="LabelSize">Label area size (0 = none).</param>
/// <param name="LabelFile">Label file on dom0 (null when LabelSize is 0).</param>
/// <param name="Serial">DCR serial number (stable across restarts).</param>
/// <param name="Node">Proximity domain.</param>
/// <param name="Unarmed">Not-armed flag (guest maps the region read-only).</param>
/// <param name="Align">Alignment of Gpa and Size.</param>
public sealed record PlannedDevice(
    int Slot,
    uint Handle,
    ushort SpaIndex,
    ushort DcrIndex,
    ulong Gpa,
    ulong Size,
    string Backend,
    ulong LabelSize,
    string? LabelFile,
    uint Serial,
    uint Node,
    bool Unarmed,
    ulong Align);
