using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Memory;

namespace XenVnvdimm.DeviceModel.Companion;

/// <summary>
/// The narrow port a guest platform implements for the <see cref="Companion"/>: put a device's memory
/// into the guest, give the mailbox page, ring the doorbell, tell the guest its FIT changed, take over
/// a predecessor's mappings. Everything else (layout, FIT, DSM, labels, xenstore, the hot-add
/// transaction, the safety rules) belongs to the companion, once for every platform.
/// </summary>
internal interface ICompanionBackend : IDisposable
{
    /// <summary>Platform name as recorded in state files and logs: xen, sim or qemu.</summary>
    string Name { get; }

    /// <summary>
    /// The guest's memory lives in a hypervisor that outlives this process (xen, sim): on SIGTERM the
    /// frames stay and a successor re-attaches. False for qemu, whose guest is our child process.
    /// </summary>
    bool OutlivesCompanion { get; }

    /// <summary>The backings' machine frames are resolved here and mapped by us (xen, sim); qemu maps files itself.</summary>
    bool MapsFrames { get; }

    /// <summary>Refuses a layout the platform cannot give the guest (slots, mailbox placement).</summary>
    void Check(GuestLayout layout);

    /// <summary>Opens the platform; nothing the guest sees changes. <paramref name="bootRuns"/> are every boot device's frames.</summary>
    void Open(GuestLayout layout, IReadOnlyList<FrameRun> bootRuns, bool reattaching);

    /// <summary>Populates (fresh) or maps again (<paramref name="adopt"/>) the DSM mailbox page.</summary>
    IMailboxPage OpenMailbox(ulong gpa, bool adopt);

    /// <summary>Maps one device, all or nothing: on failure nothing of it is in the guest.</summary>
    Task MapAsync(PlannedDevice device, IReadOnlyList<FrameRun> runs, CancellationToken cancel);

    /// <summary>Takes over what a dead or stopped predecessor mapped, without mapping it again.</summary>
    void Adopt(CompanionRecord previous, IReadOnlyList<FrameRun> runs);

    /// <summary>Name of the interface that maps pmem (recorded for a successor), once mapped.</summary>
    string? PmemInterface { get; }

    /// <summary>Starts answering the guest's doorbell port; <paramref name="deadServer"/> is a predecessor's server to replace.</summary>
    IDoorbell StartDoorbell(ushort port, Action ring, ushort? deadServer);

    /// <summary>Tells the guest its FIT grew (the GED event), best effort: the guest re-reads _FIT at probe anyway.</summary>
    void NotifyFitChanged(uint? eventIrq);

    /// <summary>
    /// Lets the guest run. Completes once the platform can take hot-adds, with the task of the guest's own
    /// end: its exit status (qemu); for xen and sim that task never completes (the domain's end is xl's).
    /// </summary>
    Task<Task<int>> LaunchAsync(GuestLayout layout, CancellationToken cancel);

    /// <summary>Asks a guest we own to stop (qemu: power off); no-op where the guest is not ours.</summary>
    Task StopGuestAsync();

    /// <summary>Undoes what this start mapped into the guest (rollback of a start the guest never saw).</summary>
    void RollBack();

    /// <summary>The companion stops but the guest lives on: disposal keeps every frame the guest uses.</summary>
    void Detach();

    /// <summary>The domain is gone: disposal makes no more hypercalls for it.</summary>
    void DomainGone();
}

/// <summary>The DSM mailbox page as the companion sees it.</summary>
internal interface IMailboxPage : IDisposable
{
    /// <summary>The page; guest-writable at any time, so readers copy before they validate.</summary>
    Span<byte> Bytes { get; }

    /// <summary>Guest firmware may clear the page before the OS reserves it (qemu): the signature is then kept up.</summary>
    bool MayBeCleared { get; }
}

/// <summary>A running doorbell.</summary>
internal interface IDoorbell : IDisposable
{
    /// <summary>The ioreq server id, where there is one (recorded for a successor).</summary>
    ushort? ServerId { get; }

    /// <summary>Completes with the reason when serving stopped by itself.</summary>
    Task<string> Fault { get; }
}
