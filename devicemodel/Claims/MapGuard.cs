using XenVnvdimm.DeviceModel.Backing;
using XenVnvdimm.DeviceModel.Backing.HostScan;
using XenVnvdimm.DeviceModel.Backing.Pinning;
using XenVnvdimm.DeviceModel.Backing.Sysfs;
using XenVnvdimm.DeviceModel.Memory;

namespace XenVnvdimm.DeviceModel.Claims;

/// <summary>
/// What every map path (start, hot-add, re-attach) asks before a device's frames reach a guest: on
/// real Xen, are they host pmem (<see cref="HostPmem"/>); host-wide, are they free or already this
/// domain's (<see cref="ClaimRegistry"/>); and for a file, pinned immutable. Remembers the claims it
/// made so a rolled-back start or hot-add gives back exactly those.
/// </summary>
public sealed class MapGuard
{
    private readonly ClaimRegistry _registry;
    private readonly ushort _domid;
    private readonly string _domain;
    private readonly SysfsTree? _hostPmem;
    private readonly HashSet<int> _made = [];

    /// <summary>A guard for domain <paramref name="domid"/>.</summary>
    /// <param name="registry">The host's claim registry.</param>
    /// <param name="domid">The guest.</param>
    /// <param name="domain">The domain's incarnation, recorded in each claim (domid and first companion start).</param>
    /// <param name="hostPmem">The sysfs tree whose pmem ranges every frame must lie in; null skips the check (the simulator's frames are not the host's).</param>
    public MapGuard(ClaimRegistry registry, ushort domid, string domain, SysfsTree? hostPmem)
    {
        _registry = registry;
        _domid = domid;
        _domain = domain;
        _hostPmem = hostPmem;
    }

    /// <summary>Checks, claims and (for a file) pins slot <paramref name="slot"/>'s frames; throws a <see cref="UserErrorException"/> naming what refuses.</summary>
    public FrameClaim Admit(BackingResolution backing, int slot, string backend, IReadOnlyList<FrameRun> runs)
    {
        if (_hostPmem is not null)
            HostPmem.EnsureContains(_hostPmem, runs);
        var request = new FrameClaim(_domid, _domain, slot, backend, null, backing.Identity, false,
            [.. runs.Select(r => new MfnRange(r.Mfn, r.Count))], Environment.ProcessId, DateTimeOffset.UtcNow);
        var (claim, reused) = _registry.Claim(request, backing.Kind == BackingKind.File ? backing : null);
        if (!reused)
            _made.Add(slot);
        return claim;
    }

    /// <summary>
    /// Refuses, naming the holder, when another domain or slot already claims this backing (same inode
    /// or device, whatever the path): asked before the lock refusal, which cannot say who holds it.
    /// </summary>
    public void EnsureNotHeld(BackingResolution backing, int slot, string backend)
    {
        _registry.Reap(); // a gone domain's claim must not refuse
        if (_registry.List().FirstOrDefault(c => c.Backing == backing.Identity && !(c.Domid == _domid && c.Slot == slot)) is { } holder)
            throw new UserErrorException($"{backend}: frames {holder.Frames[0]}{(holder.Frames.Count > 1 ? "…" : "")} are mapped into {holder.Holder}; refusing to map them into dom{_domid} slot {slot}");
    }

    /// <summary>Gives back slot <paramref name="slot"/>'s claim if this guard made it (a rolled-back hot-add).</summary>
    public void Rollback(int slot)
    {
        if (_made.Remove(slot))
            _registry.Release(_domid, slot);
    }

    /// <summary>Gives back every claim this guard made (a rolled-back start); re-used claims stay.</summary>
    public void RollbackAll()
    {
        foreach (int slot in _made.ToList())
            Rollback(slot);
    }

    /// <summary>The domain's frames are out of it (it is gone, or a clean teardown unmapped them): every claim of the domain goes, and the pins this host set.</summary>
    public List<string> ReleaseDomain()
    {
        _made.Clear();
        return _registry.Release(_domid);
    }
}
