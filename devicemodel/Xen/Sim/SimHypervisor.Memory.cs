using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Xen.Sim;

// memory_op: the vNVDIMM series' XENMEM_populate_pmem_map, XENMEM_populate_physmap and
// XENMEM_decrease_reservation (of pmem frames and of single RAM pages). Like Xen,
// progress of a preempted call is kept in the upper bits of the command (MEMOP_EXTENT_SHIFT) and the
// call is continued transparently.
internal sealed partial class SimHypervisor
{
    private const int MemopExtentShift = 6;
    private const ulong MemopCmdMask = (1UL << MemopExtentShift) - 1;

    /// <summary>Largest extent order a control domain may pass to decrease_reservation.</summary>
    public const int MaxReservationOrder = 9;

    private unsafe long MemoryOp(ref ulong cmd, ulong arg, out bool continuation)
    {
        continuation = false;
        ulong op = cmd & MemopCmdMask;
        ulong start = cmd >> MemopExtentShift;
        long rc;
        ulong done;
        if (Options.PmemOp is uint pmemOp && op == pmemOp)
        {
            Counters.Add("memory_op:populate_pmem_map");
            rc = PopulatePmem((xen_pmem_map*)arg, start, out done);
        }
        else if (op == MemoryConstants.XENMEM_decrease_reservation)
        {
            Counters.Add("memory_op:decrease_reservation");
            rc = DecreaseReservation((xen_memory_reservation*)arg, start, out done);
        }
        else if (op == MemoryConstants.XENMEM_maximum_gpfn)
        {
            Counters.Add("memory_op:maximum_gpfn");
            return start != 0 ? -XenConstants.XEN_EINVAL : MaximumGpfn(((xen_memory_domain*)arg)->domid);
        }
        else if (op == MemoryConstants.XENMEM_populate_physmap)
        {
            Counters.Add("memory_op:populate_physmap");
            rc = PopulatePhysmap((xen_memory_reservation*)arg);
            done = 0;
        }
        else
        {
            Counters.Add($"memory_op:{op}");
            return -XenConstants.XEN_ENOSYS;
        }
        if (rc == -XenInternal.ERESTART)
        {
            cmd = op | (done << MemopExtentShift);
            continuation = true;
        }
        return rc;
    }

    // An HVM domain's max_mapped_pfn: the highest frame with a p2m entry (Xen never lowers it; the sim
    // computes it from what is there now, the same answer for a domain nothing was removed from).
    private long MaximumGpfn(ushort domid)
    {
        var dom = Domain(domid);
        if (dom is null)
            return -XenConstants.XEN_ESRCH;
        lock (_domctlLock)
        {
            ulong max = 0;
            foreach (var e in dom.P2m.Ranges)
                max = Math.Max(max, e.End - 1);
            foreach (var (first, count) in dom.GuestRam.Ranges)
                max = Math.Max(max, first + count - 1);
            return (long)max;
        }
    }

    // Order-0 RAM pages only (what the companion asks for: its mailbox page); a gfn that is
    // already mapped is refused like Xen refuses to populate over an existing p2m entry.
    private unsafe long PopulatePhysmap(xen_memory_reservation* r)
    {
        var dom = Domain(r->domid);
        if (dom is null)
            return -XenConstants.XEN_ESRCH;
        if (r->extent_order != 0)
            return -XenConstants.XEN_EINVAL;
        var gfns = (ulong*)r->extent_start;
        lock (_domctlLock)
        {
            for (ulong i = 0; i < r->nr_extents; i++)
            {
                if (gfns[i] >= dom.MaxGfn || dom.P2m.Lookup(gfns[i]) is not null)
                    return (long)i;
                try
                {
                    dom.AddRamPage(gfns[i]);
                }
                catch (InvalidOperationException)
                {
                    return (long)i;
                }
            }
        }
        return (long)r->nr_extents;
    }

    private unsafe long PopulatePmem(xen_pmem_map* guest, ulong start, out ulong done)
    {
        xen_pmem_map m = *guest;
        done = start;
        var dom = Domain(m.domid);
        if (dom is null)
            return -XenConstants.XEN_ESRCH;
        if (m.nr_mfns == 0 || m.type > MemoryConstants.XEN_PMEM_TYPE_LABEL || start > m.nr_mfns)
            return -XenConstants.XEN_EINVAL;
        if (!_pmemRegions.ContainsAll(m.mfn, m.mfn + m.nr_mfns - 1))
            return -XenConstants.XEN_EINVAL; // not pmem Xen was told about
        if (m.gfn + m.nr_mfns > dom.MaxGfn || m.gfn + m.nr_mfns < m.gfn)
            return -XenConstants.XEN_EINVAL;

        lock (_domctlLock)
        {
            var fault = Faults.OnCall(SimOp.PopulatePmem);
            ulong reach = m.nr_mfns;
            if (fault is not null)
                reach = Math.Min(reach, start + fault.PartialFrames);
            ulong count = reach - start;
            if (dom.P2m.FirstConflict(m.gfn + start, m.mfn + start, count, P2mType.Pmem) is ulong c)
            {
                count = c - (m.gfn + start);
                fault = null;
                if (count > 0)
                    dom.P2m.Map(m.gfn + start, m.mfn + start, count, P2mType.Pmem, CacheAttr.WriteBack);
                done = start + count;
                return -XenConstants.XEN_EBUSY; // the series leaves the prefix; the caller undoes it
            }
            if (count > 0)
                dom.P2m.Map(m.gfn + start, m.mfn + start, count, P2mType.Pmem, CacheAttr.WriteBack);
            done = reach;
            if (fault is not null)
                return fault.Errno == XenInternal.ERESTART ? -XenInternal.ERESTART : -fault.Errno;
            return 0;
        }
    }

    private unsafe long DecreaseReservation(xen_memory_reservation* guest, ulong start, out ulong done)
    {
        xen_memory_reservation r = *guest;
        done = start;
        var dom = Domain(r.domid);
        if (dom is null)
            return -XenConstants.XEN_ESRCH;
        if (r.extent_order > MaxReservationOrder)
            return (long)start; // Xen returns the extents done so far: none
        ulong pages = 1UL << (int)r.extent_order;
        var extents = (ulong*)r.extent_start;
        lock (_domctlLock)
        {
            var fault = Faults.OnCall(SimOp.DecreaseReservation);
            ulong end = r.nr_extents;
            if (fault is not null)
                end = Math.Min(end, start + fault.PartialFrames);
            for (ulong i = start; i < end;)
            {
                // Consecutive extents are removed as one range when all of it is mapped (same result, fewer steps).
                ulong j = i + 1;
                while (j < end && extents[j] == extents[j - 1] + pages)
                    j++;
                ulong gfn = extents[i];
                if (j - i > 1 && dom.P2m.Lookup(gfn) is { Type: P2mType.Pmem or P2mType.MmioDirect } all
                    && dom.P2m.Covers(gfn, (j - i) * pages, all.Type))
                {
                    dom.P2m.Unmap(gfn, (j - i) * pages);
                    done = i = j;
                    continue;
                }
                bool mapped = dom.P2m.Lookup(gfn) is { Type: P2mType.Pmem or P2mType.MmioDirect } t
                    && dom.P2m.Covers(gfn, pages, t.Type);
                if (!mapped && pages == 1 && dom.RemoveRamPage(gfn))
                {
                    done = ++i; // a RAM page (the DSM mailbox) goes back to the hypervisor
                    continue;
                }
                if (!mapped)
                    return (long)i; // guest_remove_page failed: stop, report extents done
                dom.P2m.Unmap(gfn, pages);
                done = ++i;
            }
            if (fault is not null)
                return fault.Errno == XenInternal.ERESTART ? -XenInternal.ERESTART : (long)done;
            return (long)r.nr_extents;
        }
    }
}
