using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Xen.Abi;
using XenVnvdimm.DeviceModel.Xen.Events;
using XenVnvdimm.DeviceModel.Xen.Foreign;
using XenVnvdimm.DeviceModel.Xen.Interrupts;
using XenVnvdimm.DeviceModel.Xen.Ioreq;
using XenVnvdimm.DeviceModel.Xen.Pmem;

namespace XenVnvdimm.DeviceModel.Xen;

/// <summary>How a session populates guest pmem.</summary>
internal sealed class XenSessionOptions
{
    /// <summary>memory_op number of the series' XENMEM_populate_pmem_map; null skips that path.</summary>
    public uint? PopulatePmemOp { get; init; } = MemoryConstants.XENMEM_populate_pmem_map_series;

    /// <summary>Frame type passed to populate_pmem_map (data or label).</summary>
    public uint PmemType { get; init; } = MemoryConstants.XEN_PMEM_TYPE_DATA;
}

/// <summary>
/// Everything the companion holds for one guest on Xen, acquired in stages and released in reverse:
/// hypercall clients, event channels, the pmem mapper, ioreq servers. The devices belong to the caller,
/// so the same session runs over /dev/xen/* or the simulator.
/// </summary>
internal sealed class XenGuestSession : IDisposable
{
    private readonly ILogger _log;
    private readonly List<IIoreqServer> _servers = [];
    private readonly EventChannel _events;
    private readonly Domctl _domctl;
    private readonly MemoryOps _memory;
    private bool _restricted;
    private bool _domainGone;
    private bool _detached;

    private XenGuestSession(XenDevices devices, ushort domid, XenSessionOptions options, ILoggerFactory logging)
    {
        _log = logging.CreateLogger("xen");
        Domid = domid;
        Privcmd = new Privcmd(devices.Privcmd, devices.Hypercall);
        _domctl = new Domctl(Privcmd, _log);
        try
        {
            _memory = new MemoryOps(Privcmd);
        }
        catch
        {
            _domctl.Dispose();
            throw;
        }
        _events = new EventChannel(devices.Evtchn);
        Dm = new DeviceModelOps(Privcmd, domid);
        Foreign = new PrivcmdForeignMapper(Privcmd, domid);
        IPmemMapper fallback = new MemoryMappingMapper(_domctl, domid, _log);
        Pmem = options.PopulatePmemOp is uint op
            ? new FallbackPmemMapper(new PopulatePmemMapper(_memory, domid, op, options.PmemType, _log), fallback, _log)
            : fallback;
    }

    /// <summary>The guest.</summary>
    public ushort Domid { get; }

    /// <summary>The privcmd channel (ioctl counts for benchmarks).</summary>
    public Privcmd Privcmd { get; }

    /// <summary>DM ops on the guest.</summary>
    public DeviceModelOps Dm { get; }

    /// <summary>Guest pmem population.</summary>
    public IPmemMapper Pmem { get; }

    /// <summary>Foreign mapping of guest pages (the DSM mailbox).</summary>
    public IForeignMapper Foreign { get; }

    /// <summary>The DOMCTL interface version the hypervisor accepted, once a DOMCTL was made.</summary>
    public uint? DomctlInterfaceVersion => _domctl.InterfaceVersion;

    /// <summary>Opens a session for <paramref name="domid"/> on <paramref name="devices"/> (not owned).</summary>
    public static XenGuestSession Open(XenDevices devices, ushort domid, XenSessionOptions options, ILoggerFactory logging) =>
        new(devices, domid, options, logging);

    /// <summary>Starts an ioreq server for <paramref name="ranges"/>; it stops with the session.</summary>
    public IIoreqServer StartIoreqServer(IEnumerable<IoRange> ranges, IoHandler handler)
    {
        var s = IoreqServer.Start(Dm, Privcmd, _events, ranges, handler, _log);
        _servers.Add(s);
        return s;
    }

    /// <summary>Stops and destroys one ioreq server before the session ends (a faulted one being replaced, or the doorbell released).</summary>
    public void StopIoreqServer(IIoreqServer server)
    {
        _servers.Remove(server);
        server.Dispose();
    }

    /// <summary>Populates one fresh RAM page at <paramref name="gfn"/> (the DSM mailbox page).</summary>
    public void PopulateRamPage(ulong gfn)
    {
        long rc = _memory.PopulatePhysmap(Domid, [gfn]);
        if (rc != 1)
            throw new XenException($"populate_physmap(gfn 0x{gfn:x})", rc < 0 ? (int)-rc : XenConstants.XEN_EBUSY);
    }

    /// <summary>
    /// Gives the RAM page at <paramref name="gfn"/> back to Xen (XENMEM_decrease_reservation): the undo
    /// of <see cref="PopulateRamPage"/>. A restricted privcmd cannot; the page then goes with the domain.
    /// </summary>
    public void RemoveRamPage(ulong gfn)
    {
        if (_domainGone)
            return;
        if (_restricted)
        {
            _log.LogInformation("dom{Domid}: privcmd is restricted; the RAM page at gfn 0x{Gfn:x} goes away with the domain", Domid, gfn);
            return;
        }
        long rc = _memory.DecreaseReservation(Domid, [gfn], 0);
        if (rc != 1)
            throw new XenException($"decrease_reservation(gfn 0x{gfn:x})", rc < 0 ? (int)-rc : XenConstants.XEN_EINVAL);
    }

    /// <summary>
    /// Refuses to map over anything the domain already has at [<paramref name="firstGfn"/>, +<paramref name="count"/>):
    /// XEN_DOMCTL_memory_mapping would silently replace RAM p2m entries (set_typed_p2m_entry), and the
    /// guest would then use the backing file as RAM. XENMEM_maximum_gpfn answers at once when the
    /// range lies above everything the p2m ever held (a fresh start); otherwise the frames up to it are
    /// asked one by one with XEN_DOMCTL_getpageframeinfo3, which Xen 4.17 serves for HVM guests
    /// (libxc's migration uses it on them) and which reports XTAB where the p2m has no page.
    /// </summary>
    public void EnsureUnpopulated(ulong firstGfn, ulong count)
    {
        if (count == 0)
            return;
        long max = _memory.MaximumGpfn(Domid);
        if (max < 0)
            throw new XenException($"maximum_gpfn(dom{Domid})", (int)-max);
        if ((ulong)max < firstGfn)
            return;
        ulong last = Math.Min(firstGfn + count - 1, (ulong)max);
        Span<ulong> frames = new ulong[Domctl.MaxFrameInfoPerCall];
        for (ulong gfn = firstGfn; gfn <= last;)
        {
            int n = (int)Math.Min((ulong)frames.Length, last - gfn + 1);
            var batch = frames[..n];
            for (int i = 0; i < n; i++)
                batch[i] = gfn + (ulong)i;
            long rc = _domctl.GetPageFrameInfo(Domid, batch);
            if (rc < 0)
                throw new XenException($"getpageframeinfo3(dom{Domid}, gfn 0x{gfn:x})", (int)-rc);
            for (int i = 0; i < n; i++)
            {
                if ((batch[i] & DomctlConstants.XEN_DOMCTL_PFINFO_LTAB_MASK) != DomctlConstants.XEN_DOMCTL_PFINFO_XTAB)
                {
                    ulong at = gfn + (ulong)i;
                    throw new UserErrorException(
                        $"dom{Domid}: guest frames 0x{firstGfn << 12:x}-0x{((firstGfn + count) << 12) - 1:x} are already populated " +
                        $"(0x{at << 12:x} holds a page): the window would replace the guest's memory there; move vnvdimm_base above it");
                }
            }
            gfn += (ulong)n;
        }
    }

    /// <summary>
    /// <see cref="EnsureUnpopulated(ulong, ulong)"/> over the guest frames of <paramref name="runs"/>, runs
    /// that continue each other in guest frames taken as one range (a device's, named whole in errors).
    /// </summary>
    public void EnsureUnpopulated(IEnumerable<FrameRun> runs)
    {
        ulong first = 0, count = 0;
        foreach (var r in runs.OrderBy(r => r.Gfn))
        {
            if (count != 0 && r.Gfn == first + count)
            {
                count += r.Count;
                continue;
            }
            EnsureUnpopulated(first, count);
            (first, count) = (r.Gfn, r.Count);
        }
        EnsureUnpopulated(first, count);
    }

    /// <summary>The guest's ISA IRQ line <paramref name="isaIrq"/> (hot-add event on x86).</summary>
    public GuestIrqLine IsaIrq(byte isaIrq) => GuestIrqLine.Isa(Dm, isaIrq);

    /// <summary>
    /// Restricts privcmd and evtchn to this guest (IOCTL_PRIVCMD_RESTRICT, IOCTL_EVTCHN_RESTRICT_DOMID).
    /// DM ops and mappings keep working; raw hypercalls do not, so pmem can no longer be added or removed:
    /// Xen drops the mappings with the domain. Call it only when no hot-add is configured.
    /// </summary>
    public void Restrict()
    {
        Privcmd.Restrict(Domid);
        _events.Restrict(Domid);
        _restricted = true;
    }

    /// <summary>
    /// The domain is gone (@releaseDomain, no longer introduced): Xen dropped its pmem mappings, ioreq
    /// servers and RAM pages with it, so teardown makes no more hypercalls for it (they could only fail
    /// with ESRCH/ENOENT) and only releases what is local: mappings of its pages, event channel ports.
    /// </summary>
    public void MarkDomainGone()
    {
        _domainGone = true;
        foreach (var s in _servers)
            s.DomainGone();
        _log.LogInformation("dom{Domid} is gone: Xen dropped its mappings, ioreq servers and pages with it", Domid);
    }

    /// <summary>
    /// The companion stops while the guest lives on (SIGTERM, an upgrade): disposal then releases only what
    /// is local (ioreq servers, event channels, buffers) and leaves the pmem frames in the guest, because
    /// frames leave a live guest only when the guest is gone. A successor re-attaches to them.
    /// </summary>
    public void Detach() => _detached = true;

    /// <inheritdoc/>
    public void Dispose()
    {
        for (int i = _servers.Count - 1; i >= 0; i--)
            _servers[i].Dispose();
        _servers.Clear();
        if (_domainGone)
            _log.LogDebug("dom{Domid}: no pmem teardown: the domain is gone", Domid);
        else if (_detached)
            _log.LogInformation("dom{Domid}: pmem frames stay in the live guest for the next companion", Domid);
        else if (_restricted)
        {
            _log.LogInformation("dom{Domid}: privcmd is restricted; pmem mappings go away with the domain", Domid);
        }
        else
        {
            try
            {
                Pmem.Unmap();
            }
            catch (XenException e)
            {
                _log.LogError("dom{Domid}: pmem teardown: {Error}", Domid, e.Message);
            }
        }
        _events.Dispose();
        _memory.Dispose();
        _domctl.Dispose();
    }
}
