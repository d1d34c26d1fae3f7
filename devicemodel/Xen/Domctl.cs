using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Xen;

/// <summary>
/// XEN_DOMCTL_* through privcmd, the way libxc's do_domctl does it: the 144-byte struct in a locked
/// buffer, copied back after the call. The interface version is probed: Xen refuses any version but its
/// own with -EACCES, so the candidates of <see cref="DomctlVersions"/> are tried until one is accepted.
/// </summary>
internal sealed unsafe class Domctl : IDisposable
{
    private readonly Privcmd _privcmd;
    private readonly HypercallBuffer _buffer;
    private readonly Lock _lock = new();
    private readonly InterfaceVersionProbe _probe;
    private HypercallBuffer? _frames;

    /// <summary>Creates a client with its own locked buffer.</summary>
    public Domctl(Privcmd privcmd, ILogger log)
    {
        _privcmd = privcmd;
        _buffer = privcmd.AllocateBuffer((nuint)sizeof(xen_domctl));
        _probe = new InterfaceVersionProbe("DOMCTL", DomctlVersions.Candidates, log);
    }

    /// <summary>The interface version the hypervisor accepted, once known.</summary>
    public uint? InterfaceVersion => _probe.Accepted;

    /// <summary>XEN_DOMCTL_iomem_permission: 0 or a negated errno.</summary>
    public long IomemPermission(ushort domid, ulong firstMfn, ulong count, bool allow)
    {
        xen_domctl d = default;
        d.cmd = DomctlConstants.XEN_DOMCTL_iomem_permission;
        d.domain = domid;
        ref var p = ref d.U<xen_domctl_iomem_permission>();
        p.first_mfn = firstMfn;
        p.nr_mfns = count;
        p.allow_access = allow ? (byte)1 : (byte)0;
        return Issue(ref d);
    }

    /// <summary>
    /// XEN_DOMCTL_memory_mapping: 0 when all done, a positive count of frames done (call again for the
    /// rest), or a negated errno (-E2BIG: ask for fewer frames).
    /// </summary>
    public long MemoryMapping(ushort domid, ulong firstGfn, ulong firstMfn, ulong count, bool add)
    {
        xen_domctl d = default;
        d.cmd = DomctlConstants.XEN_DOMCTL_memory_mapping;
        d.domain = domid;
        ref var m = ref d.U<xen_domctl_memory_mapping>();
        m.first_gfn = firstGfn;
        m.first_mfn = firstMfn;
        m.nr_mfns = count;
        m.add_mapping = add ? DomctlConstants.DPCI_ADD_MAPPING : DomctlConstants.DPCI_REMOVE_MAPPING;
        return Issue(ref d);
    }

    /// <summary>
    /// XEN_DOMCTL_getdomaininfo: the XEN_DOMINF_* flags of <paramref name="domid"/>, or null when Xen
    /// has no such domain (-ESRCH, or Xen 4.17 answering about the next domain up).
    /// </summary>
    /// <exception cref="XenException">Xen refused the question for another reason.</exception>
    public uint? DomainFlags(ushort domid)
    {
        xen_domctl d = default;
        d.cmd = DomctlConstants.XEN_DOMCTL_getdomaininfo;
        d.domain = domid;
        long rc = Issue(ref d);
        if (rc == -XenConstants.XEN_ESRCH)
            return null;
        if (rc < 0)
            throw new XenException($"XEN_DOMCTL_getdomaininfo(dom{domid})", (int)-rc);
        ref var info = ref d.U<xen_domctl_getdomaininfo>();
        return info.domain == domid ? info.flags : null;
    }

    /// <summary>Frames per XEN_DOMCTL_getpageframeinfo3 call (Xen refuses more with -E2BIG).</summary>
    public const int MaxFrameInfoPerCall = 1024;

    /// <summary>
    /// XEN_DOMCTL_getpageframeinfo3: replaces each gfn of <paramref name="frames"/> by its
    /// XEN_DOMCTL_PFINFO_* type (XTAB: nothing there). 0 or a negated errno.
    /// </summary>
    public long GetPageFrameInfo(ushort domid, Span<ulong> frames)
    {
        if (frames.Length > MaxFrameInfoPerCall)
            throw new ArgumentOutOfRangeException(nameof(frames), "too many frames for one call");
        lock (_lock)
        {
            _frames ??= _privcmd.AllocateBuffer((nuint)(MaxFrameInfoPerCall * sizeof(ulong)));
            var array = new Span<ulong>(_frames.Address, frames.Length);
            frames.CopyTo(array);
            xen_domctl d = default;
            d.cmd = DomctlConstants.XEN_DOMCTL_getpageframeinfo3;
            d.domain = domid;
            ref var p = ref d.U<xen_domctl_getpageframeinfo3>();
            p.num = (ulong)frames.Length;
            p.array = (ulong)_frames.Address;
            long rc = Issue(ref d);
            array.CopyTo(frames);
            return rc;
        }
    }

    /// <summary>Issues one domctl; <paramref name="domctl"/> receives what Xen copied back.</summary>
    public long Issue(ref xen_domctl domctl)
    {
        lock (_lock)
        {
            var copy = domctl;
            long rc = _probe.Issue(version => IssueWith(ref copy, version));
            domctl = copy;
            return rc;
        }
    }

    private long IssueWith(ref xen_domctl domctl, uint version)
    {
        domctl.interface_version = version;
        var shared = _buffer.Cleared<xen_domctl>();
        *shared = domctl;
        long rc = _privcmd.Hypercall(XenConstants.__HYPERVISOR_domctl, (ulong)shared);
        domctl = *shared;
        return rc;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _frames?.Dispose();
        _buffer.Dispose();
    }
}
