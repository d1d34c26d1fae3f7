namespace XenVnvdimm.DeviceModel.Companion;

/// <summary>What the CLI decided for one companion run; nothing below the CLI reads the environment.</summary>
/// <param name="Domid">The guest's domain id; null for a qemu guest that is not published in xenstore.</param>
/// <param name="StateDirectory">Where state files live (/run/xen-vnvdimm).</param>
/// <param name="XenStorePath">xenstore socket or device; null finds it as libxenstore does.</param>
/// <param name="AssumeSpaBase">Sim only: the SPA that backings not on pmem are assumed to start at.</param>
/// <param name="Labels">Where a hot-added device's labels go when its spec names no file (as the start's layout was planned); null for the default root.</param>
internal sealed record CompanionOptions(
    ushort? Domid,
    string StateDirectory,
    string? XenStorePath = null,
    ulong? AssumeSpaBase = null,
    Labels.LabelLocation? Labels = null);
