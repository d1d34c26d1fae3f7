using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Xen;

/// <summary>
/// Finds the DOMCTL/SYSCTL interface version the running hypervisor accepts: Xen refuses any version
/// but its own with -EACCES, so candidates are tried in order on the first call and the accepted one is
/// kept. The structures this program uses are the same under every candidate.
/// </summary>
internal sealed class InterfaceVersionProbe(string name, IReadOnlyList<uint> candidates, ILogger log)
{
    /// <summary>The accepted version, once a call got past the version check.</summary>
    public uint? Accepted { get; private set; }

    /// <summary>Issues <paramref name="call"/> with the known version, or probes for it; returns the call's result.</summary>
    public long Issue(Func<uint, long> call)
    {
        if (Accepted is uint known)
            return call(known);
        long rc = -XenConstants.XEN_EACCES;
        foreach (uint candidate in candidates)
        {
            rc = call(candidate);
            if (rc != -XenConstants.XEN_EACCES)
            {
                Accepted = candidate;
                log.LogDebug("hypervisor accepts {Name} interface version 0x{Version:x}", name, candidate);
                return rc;
            }
        }
        log.LogError("hypervisor refused {Name} interface versions {Versions} (-EACCES): unsupported Xen, or XSM denies the call",
            name, string.Join(", ", candidates.Select(c => $"0x{c:x}")));
        return rc;
    }
}
