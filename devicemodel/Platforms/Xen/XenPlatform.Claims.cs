using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Backing.Sysfs;
using XenVnvdimm.DeviceModel.Claims;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Xen;

namespace XenVnvdimm.DeviceModel.Platforms.Xen;

// Host-wide claims, pins and the host-pmem check (issue 13 items 4-6): one MapGuard per companion,
// asked by every map path before a frame reaches the guest.
internal sealed partial class XenPlatform
{
    private MapGuard? _guard;

    private MapGuard OpenGuard(XenDevices devices, CompanionRecord? previous)
    {
        string dir = _options.ClaimsDirectory ?? Path.Combine(CompanionStateFile.Directory, "claims");
        IDomainLiveness liveness = _options.Simulated
            ? new SimDomainLiveness(CompanionStateFile.Directory)
            : new XenDomainLiveness(new Privcmd(devices.Privcmd, devices.Hypercall));
        var registry = new ClaimRegistry(dir, liveness, line => _logger.LogInformation("claims: {Line}", line));
        string domain = $"dom{_options.Domid}@{(previous?.Started ?? _started):O}";
        // The simulator's frames are not the host's: only real Xen checks them against host pmem.
        return new MapGuard(registry, _options.Domid, domain, _options.Simulated ? null : SysfsTree.System);
    }

    // Runs after the session's teardown: when the frames left the guest (the record goes with them),
    // so do the claims and the pins; when they stay (record kept), the claims stay too.
    private void ReleaseClaimsIfUnmapped()
    {
        if (_guard is not null && _state is { Keep: false })
            _guard.ReleaseDomain();
    }
}
