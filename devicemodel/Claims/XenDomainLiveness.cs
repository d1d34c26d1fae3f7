using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Claims;

/// <summary>
/// Liveness on real Xen: XEN_DOMCTL_getdomaininfo. A domain is gone when Xen no longer has it, or when
/// it is dying: from domain_kill on, Xen is tearing its p2m down, and after a guest's reboot the old
/// domain can linger as a dying zombie for a long time while its successor, under a new domid, needs
/// the same frames. Xen 4.17 answers about the first domain at or above the domid asked for (4.18 made
/// a missing one -ESRCH), so the domid of the answer is compared. Asked of the hypervisor, not of
/// xenstore, whose view can lag and which the gc command has no connection to.
/// </summary>
internal sealed class XenDomainLiveness : IDomainLiveness
{
    private readonly Func<ushort, uint?> _domainFlags;

    /// <summary>Asks through <paramref name="privcmd"/> (not owned).</summary>
    public XenDomainLiveness(Privcmd privcmd)
        : this(domid =>
        {
            using var domctl = new Domctl(privcmd, NullLogger.Instance);
            return domctl.DomainFlags(domid);
        })
    {
    }

    /// <summary>
    /// Asks <paramref name="domainFlags"/>: the XEN_DOMINF_* flags of a domain, null when Xen has no
    /// such domain; a <see cref="XenException"/> when the question could not be answered.
    /// </summary>
    internal XenDomainLiveness(Func<ushort, uint?> domainFlags) => _domainFlags = domainFlags;

    /// <summary>Asks through the host's /dev/xen/privcmd, opened for each question (claims are rare).</summary>
    public static IDomainLiveness OnHost() => new PerQuery();

    /// <inheritdoc/>
    public bool IsAlive(ushort domid)
    {
        try
        {
            return _domainFlags(domid) is { } flags && (flags & DomctlConstants.XEN_DOMINF_dying) == 0;
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
