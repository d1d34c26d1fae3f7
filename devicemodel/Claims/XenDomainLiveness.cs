using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Claims;

/// <summary>
/// Liveness on real Xen: XEN_DMOP_nr_vcpus on the domain. Xen answers -ESRCH once the domain is
/// destroyed (rcu_lock_remote_domain_by_id fails), which is exactly "its p2m is gone". Chosen over
/// XEN_DOMCTL_getdomaininfo because Xen 4.17's getdomaininfo returns the next domain at or above the
/// domid asked for (only 4.18 made it fail for a missing one), and over xenstore's
/// IS_DOMAIN_INTRODUCED because xenstored's view can lag the hypervisor and needs a connection the
/// gc command does not otherwise have; the DM op is the probe the re-attach path already relies on.
/// </summary>
internal sealed class XenDomainLiveness : IDomainLiveness
{
    private readonly Privcmd _privcmd;

    /// <summary>Asks through <paramref name="privcmd"/> (not owned).</summary>
    public XenDomainLiveness(Privcmd privcmd) => _privcmd = privcmd;

    /// <summary>Asks through the host's /dev/xen/privcmd, opened for each question (claims are rare).</summary>
    public static IDomainLiveness OnHost() => new PerQuery();

    /// <inheritdoc/>
    public bool IsAlive(ushort domid)
    {
        try
        {
            new DeviceModelOps(_privcmd, domid).NrVcpus();
            return true;
        }
        catch (XenException e) when (e.Errno == XenConstants.XEN_ESRCH)
        {
            return false;
        }
        catch (XenException)
        {
            return true; // any other answer (EPERM under a restricted privcmd): unsure, so alive
        }
    }

    private sealed class PerQuery : IDomainLiveness
    {
        public bool IsAlive(ushort domid)
        {
            XenDevices devices;
            try
            {
                devices = XenDevices.OpenHost();
            }
            catch (XenException e)
            {
                throw new UserErrorException($"cannot ask Xen whether dom{domid} exists (/dev/xen/privcmd: {e.Message})", e);
            }
            using (devices)
                return new XenDomainLiveness(new Privcmd(devices.Privcmd, devices.Hypercall)).IsAlive(domid);
        }
    }
}
