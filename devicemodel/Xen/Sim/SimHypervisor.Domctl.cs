using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Xen.Sim;

// XEN_DOMCTL_iomem_permission and XEN_DOMCTL_memory_mapping as xen/common/domctl.c and
// xen/arch/x86/mm/p2m.c (map_mmio_regions / unmap_mmio_regions) implement them.
internal sealed partial class SimHypervisor
{
    /// <summary>Iterations map_mmio_regions does per call before returning a partial count (MAP_MMIO_MAX_ITER).</summary>
    public const int MapMmioMaxIter = 64;

    private unsafe long Domctl(xen_domctl* guest)
    {
        Counters.Add("domctl");
        xen_domctl d = *guest; // copy_from_guest
        if (d.interface_version != Options.DomctlInterfaceVersion)
            return -XenConstants.XEN_EACCES;
        long rc;
        lock (_domctlLock)
        {
            var dom = Domain(d.domain);
            if (dom is null)
                return -XenConstants.XEN_ESRCH;
            switch (d.cmd)
            {
                case DomctlConstants.XEN_DOMCTL_iomem_permission:
                    Counters.Add("domctl:iomem_permission");
                    rc = IomemPermission(dom, d.U<xen_domctl_iomem_permission>());
                    break;
                case DomctlConstants.XEN_DOMCTL_memory_mapping:
                    Counters.Add("domctl:memory_mapping");
                    rc = MemoryMapping(dom, d.U<xen_domctl_memory_mapping>());
                    break;
                case DomctlConstants.XEN_DOMCTL_getpageframeinfo3:
                    Counters.Add("domctl:getpageframeinfo3");
                    rc = PageFrameInfo(dom, d.U<xen_domctl_getpageframeinfo3>());
                    break;
                default:
                    return -XenConstants.XEN_ENOSYS;
            }
        }
        *guest = d; // copyback
        return rc;
    }

    // xen/arch/x86/domctl.c: at most 1,024 frames; a frame with a RAM page is NOTAB (an HVM guest's pages
    // carry no page-table type), one without (nothing, or p2m_mmio_direct) is XTAB.
    private static unsafe long PageFrameInfo(SimDomain dom, in xen_domctl_getpageframeinfo3 p)
    {
        if (p.num > 1024)
            return -XenConstants.XEN_E2BIG;
        var array = (ulong*)p.array;
        for (ulong i = 0; i < p.num; i++)
        {
            ulong gfn = array[i];
            bool page = dom.GuestRam.ContainsAll(gfn, gfn) || dom.P2m.Lookup(gfn) is { Type: P2mType.Ram or P2mType.Pmem };
            array[i] = page ? 0 : DomctlConstants.XEN_DOMCTL_PFINFO_XTAB;
        }
        return 0;
    }

    private ulong MachineFrameLimit => 1UL << (Options.PaddrBits - XenInternal.PageShift);

    private long IomemPermission(SimDomain dom, in xen_domctl_iomem_permission p)
    {
        ulong last = p.first_mfn + p.nr_mfns - 1;
        if (last < p.first_mfn)
            return -XenConstants.XEN_EINVAL; // also nr_mfns == 0
        if (last >= MachineFrameLimit)
            return -XenConstants.XEN_EPERM; // dom0 itself has no access beyond the host's frames
        if (Faults.OnCall(SimOp.IomemPermission) is { } f)
            return -f.Errno;
        if (p.allow_access != 0)
            dom.Iomem.Add(p.first_mfn, p.nr_mfns);
        else
            dom.Iomem.Remove(p.first_mfn, p.nr_mfns);
        return 0;
    }

    private long MemoryMapping(SimDomain dom, in xen_domctl_memory_mapping m)
    {
        ulong gfn = m.first_gfn, mfn = m.first_mfn, nr = m.nr_mfns;
        ulong mfnEnd = mfn + nr - 1;
        if (mfnEnd < mfn || ((mfn | mfnEnd) >> (Options.PaddrBits - XenInternal.PageShift)) != 0 || gfn + nr - 1 < gfn)
            return -XenConstants.XEN_EINVAL;
        if (Options.MaxMappingFramesPerCall is ulong max && nr > max)
            return -XenConstants.XEN_E2BIG;
        if (!dom.Iomem.ContainsAll(mfn, mfnEnd))
            return -XenConstants.XEN_EPERM;
        if (gfn + nr > dom.MaxGfn)
            return -XenConstants.XEN_EINVAL;

        bool add = m.add_mapping != DomctlConstants.DPCI_REMOVE_MAPPING;
        var fault = Faults.OnCall(add ? SimOp.MemoryMapping : SimOp.MemoryUnmapping);
        var bounds = IterationBounds(gfn, mfn, nr);
        ulong reach = bounds[^1];
        if (fault is not null)
            reach = Floor(bounds, Math.Min(reach, fault.PartialFrames));

        // Stop at the first frame whose entry is in the way; Xen fails that iteration.
        ulong? conflict = add
            ? dom.P2m.FirstConflict(gfn, mfn, reach, P2mType.MmioDirect)
            : FirstRemovalConflict(dom, gfn, mfn, reach);
        long error = 0;
        if (conflict is ulong c)
        {
            reach = Floor(bounds, c - gfn);
            error = add ? -XenConstants.XEN_EBUSY : -XenConstants.XEN_EINVAL;
        }
        else if (fault is not null && fault.Errno != XenInternal.ERESTART)
        {
            error = -fault.Errno;
        }

        if (reach > 0)
        {
            if (add)
                dom.P2m.Map(gfn, mfn, reach, P2mType.MmioDirect, CacheAttr.Uncached);
            else
                dom.P2m.Unmap(gfn, reach);
        }
        if (error != 0 && reach > 0 && fault is not null)
            Faults.Add(fault with { AfterCalls = 0, PartialFrames = 0, Times = 1 }); // the error surfaces on the next call
        // "i == nr ? 0 : i ?: ret": progress is reported as a count, an error only when nothing was done.
        if (reach == nr && error == 0)
            return 0;
        return reach > 0 ? (long)reach : (error != 0 ? error : -XenConstants.XEN_EINVAL);
    }

    private static ulong? FirstRemovalConflict(SimDomain dom, ulong gfn, ulong mfn, ulong count)
    {
        foreach (var e in dom.P2m.Overlapping(gfn, count))
        {
            ulong at = Math.Max(e.Start, gfn);
            if (e.Value.Type != P2mType.MmioDirect || e.Value.Mfn + (at - e.Start) != mfn + (at - gfn))
                return at;
        }
        return null;
    }

    /// <summary>
    /// Cumulative frame counts after each of map_mmio_regions' iterations (at most 64): an iteration maps a
    /// 2 MiB page when gfn|mfn is 2 MiB aligned and at least 2 MiB remain (mmio_order; 1 GiB is disabled in
    /// Xen), else a 4 KiB page. Element 0 is 0.
    /// </summary>
    private List<ulong> IterationBounds(ulong gfn, ulong mfn, ulong nr)
    {
        var bounds = new List<ulong>(MapMmioMaxIter + 1) { 0 };
        ulong i = 0;
        for (int iter = 0; i < nr && iter < MapMmioMaxIter; iter++)
        {
            ulong start = (gfn + i) | (mfn + i);
            bool big = Options.Hap2M && (start & (FrameRunPages2M - 1)) == 0 && (nr - i) >= FrameRunPages2M;
            i += big ? FrameRunPages2M : 1;
            bounds.Add(i);
        }
        return bounds;
    }

    private const ulong FrameRunPages2M = 512;

    private static ulong Floor(List<ulong> bounds, ulong limit)
    {
        ulong best = 0;
        foreach (ulong b in bounds)
        {
            if (b <= limit)
                best = b;
        }
        return best;
    }
}
