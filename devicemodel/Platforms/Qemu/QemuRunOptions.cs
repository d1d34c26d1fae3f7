namespace XenVnvdimm.DeviceModel.Platforms.Qemu;

/// <summary>Options of <c>xen-vnvdimm run --platform qemu</c>.</summary>
/// <param name="GuestRun">The guest harness (scripts/guest/run) that boots the guest.</param>
/// <param name="GuestScript">Shell script to run in the guest after boot, then power off; null runs <c>ndctl list</c>.</param>
/// <param name="ConsoleLog">File for the guest console; null sends it to stdout.</param>
/// <param name="RunDirectory">Where tables, the RAM file and sockets live; null makes a temporary one.</param>
/// <param name="Domid">Domain id to publish under in xenstore (and take hot-add commands for); null for none.</param>
/// <param name="TimeoutSeconds">Hard limit on the guest's run time.</param>
/// <param name="GuestMemory">Guest RAM size (the mailbox must lie inside it).</param>
internal sealed record QemuRunOptions(
    string GuestRun,
    string? GuestScript,
    string? ConsoleLog,
    string? RunDirectory,
    uint? Domid = null,
    int TimeoutSeconds = 300,
    ulong GuestMemory = 1UL << 30);
