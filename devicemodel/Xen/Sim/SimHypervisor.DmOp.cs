using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Xen.Sim;

// HYPERVISOR_dm_op (xen/arch/x86/hvm/dm.c) and the resource/foreign mappings privcmd asks Xen for.
internal sealed partial class SimHypervisor
{
    private const int EOPNOTSUPP = 95;

    /// <summary>One DM op on <paramref name="domid"/>: 0 or a negated errno; OUT fields are written back.</summary>
    public unsafe long DmOp(ushort domid, xen_dm_op* guest)
    {
        try
        {
            return DmOpUnpersisted(domid, guest);
        }
        finally
        {
            Persist();
        }
    }

    private unsafe long DmOpUnpersisted(ushort domid, xen_dm_op* guest)
    {
        Counters.Add("dm_op");
        xen_dm_op op = *guest;
        var dom = Domain(domid);
        if (dom is null)
            return -XenConstants.XEN_ESRCH;
        if (op.pad != 0)
            return -XenConstants.XEN_EINVAL;
        Counters.Add($"dm_op:{op.op}");
        if (Faults.OnCall(SimOp.DmOp) is { } f)
            return -f.Errno;
        long rc = op.op switch
        {
            DmOpConstants.XEN_DMOP_create_ioreq_server => CreateServer(dom, ref op.U<xen_dm_op_create_ioreq_server>()),
            DmOpConstants.XEN_DMOP_map_io_range_to_ioreq_server => WithServer(dom, op.U<xen_dm_op_ioreq_server_range>().id,
                s => s.AddRange(op.U<xen_dm_op_ioreq_server_range>().type, op.U<xen_dm_op_ioreq_server_range>().start, op.U<xen_dm_op_ioreq_server_range>().end)),
            DmOpConstants.XEN_DMOP_unmap_io_range_from_ioreq_server => WithServer(dom, op.U<xen_dm_op_ioreq_server_range>().id,
                s => s.RemoveRange(op.U<xen_dm_op_ioreq_server_range>().type, op.U<xen_dm_op_ioreq_server_range>().start, op.U<xen_dm_op_ioreq_server_range>().end)),
            DmOpConstants.XEN_DMOP_set_ioreq_server_state => WithServer(dom, op.U<xen_dm_op_set_ioreq_server_state>().id,
                s => { s.Enabled = op.U<xen_dm_op_set_ioreq_server_state>().enabled != 0; return 0; }),
            DmOpConstants.XEN_DMOP_destroy_ioreq_server => DestroyServer(dom, op.U<xen_dm_op_destroy_ioreq_server>().id),
            DmOpConstants.XEN_DMOP_set_isa_irq_level => SetIsaIrq(dom, op.U<xen_dm_op_set_isa_irq_level>()),
            DmOpConstants.XEN_DMOP_set_irq_level => -EOPNOTSUPP, // Arm only; the simulator is x86
            DmOpConstants.XEN_DMOP_nr_vcpus => NrVcpus(dom, ref op.U<xen_dm_op_nr_vcpus>()),
            _ => -EOPNOTSUPP,
        };
        if (rc == 0)
            *guest = op;
        return rc;
    }

    private long CreateServer(SimDomain dom, ref xen_dm_op_create_ioreq_server c)
    {
        if (c.handle_bufioreq != DmOpConstants.HVM_IOREQSRV_BUFIOREQ_OFF)
            return -EOPNOTSUPP; // the simulator has no buffered ioreq ring
        lock (dom.IoreqServers)
        {
            ushort id = _nextServerId++;
            dom.IoreqServers[id] = new SimIoreqServer(dom, id, Events);
            c.id = id;
        }
        return 0;
    }

    private static long WithServer(SimDomain dom, ushort id, Func<SimIoreqServer, int> action)
    {
        SimIoreqServer? s;
        lock (dom.IoreqServers)
            s = dom.IoreqServers.GetValueOrDefault(id);
        return s is null ? -XenConstants.XEN_ENOENT : action(s);
    }

    private long DestroyServer(SimDomain dom, ushort id)
    {
        SimIoreqServer? s;
        lock (dom.IoreqServers)
        {
            if (!dom.IoreqServers.Remove(id, out s))
                return -XenConstants.XEN_ENOENT;
        }
        foreach (uint port in s.Ports)
            Events.CloseXenPort(dom.Domid, port);
        s.Dispose();
        return 0;
    }

    private static long SetIsaIrq(SimDomain dom, in xen_dm_op_set_isa_irq_level l)
    {
        if (l.isa_irq > 15 || l.level > 1)
            return -XenConstants.XEN_EINVAL;
        lock (dom.IsaIrqLevel)
        {
            if (l.level == 1 && !dom.IsaIrqLevel[l.isa_irq])
                dom.IsaIrqEdges[l.isa_irq]++;
            dom.IsaIrqLevel[l.isa_irq] = l.level == 1;
        }
        return 0;
    }

    private static long NrVcpus(SimDomain dom, ref xen_dm_op_nr_vcpus n)
    {
        n.vcpus = (uint)dom.Vcpus;
        return 0;
    }

    /// <summary>XENMEM_acquire_resource as privcmd's MMAP_RESOURCE issues it, aliasing the frames at <paramref name="at"/>.</summary>
    public unsafe int MapResource(ushort domid, uint type, uint id, uint idx, ulong num, void* at)
    {
        Counters.Add("acquire_resource");
        var dom = Domain(domid);
        if (dom is null)
            return -XenConstants.XEN_ESRCH;
        if (type != MemoryConstants.XENMEM_resource_ioreq_server)
            return -EOPNOTSUPP;
        SimIoreqServer? s;
        lock (dom.IoreqServers)
            s = dom.IoreqServers.GetValueOrDefault((ushort)id);
        if (s is null || id > ushort.MaxValue)
            return -XenConstants.XEN_ENOENT;
        // Frame 0 is the buffered page, which a server created without buffered ioreqs does not have.
        if (idx < MemoryConstants.XENMEM_resource_ioreq_server_frame_ioreq_0 || num == 0
            || idx - MemoryConstants.XENMEM_resource_ioreq_server_frame_ioreq_0 + num > (ulong)s.Page.Pages)
            return -XenConstants.XEN_EINVAL;
        return s.Page.AliasAt(at, (int)(idx - MemoryConstants.XENMEM_resource_ioreq_server_frame_ioreq_0), (int)num);
    }

    /// <summary>Foreign mapping of one guest frame at <paramref name="at"/>: 0 or a negated errno for that frame.</summary>
    public unsafe int MapForeignFrame(ushort domid, ulong gfn, void* at)
    {
        Counters.Add("foreign_map");
        var dom = Domain(domid);
        if (dom is null)
            return -XenConstants.XEN_ESRCH;
        // Only RAM can be foreign-mapped; pmem mapped as MMIO, holes and the like cannot.
        if (!dom.TryGetRamPage(gfn, out int page))
            return -XenConstants.XEN_EINVAL;
        return dom.Ram.AliasAt(at, page, 1);
    }
}
