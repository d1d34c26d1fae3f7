namespace XenVnvdimm.DeviceModel.Platforms.Xen;

/// <summary>Options of <c>xen-vnvdimm run --platform xen|sim</c>.</summary>
/// <param name="ConfigPath">The guest's xl-style config (the same one the tables were built from).</param>
/// <param name="Domid">The guest's domain id.</param>
/// <param name="AssumeSpaBase">Map device offsets of backings that are not on pmem from this SPA (tests, sim).</param>
/// <param name="Simulated">Run against the in-process simulated hypervisor instead of /dev/xen.</param>
/// <param name="Restrict">Restrict privcmd and evtchn to the domain once serving (hot-add is then refused:
/// mapping needs hypercalls a restricted privcmd no longer passes).</param>
/// <param name="XenStorePath">xenstore socket or device; null finds it as libxenstore does.</param>
/// <param name="ClaimsDirectory">The host-wide claim registry; null puts it in the state directory's <c>claims</c>.</param>
internal sealed record XenRunOptions(string ConfigPath, ushort Domid, ulong? AssumeSpaBase, bool Simulated, bool Restrict = false, string? XenStorePath = null, string? ClaimsDirectory = null);
