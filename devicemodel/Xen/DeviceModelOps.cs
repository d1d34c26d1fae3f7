using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Xen;

/// <summary>
/// The DM ops the companion uses, one method each and all of one shape (like libxendevicemodel's
/// core.c): fill a xen_dm_op, pass it as the single buffer of IOCTL_PRIVCMD_DM_OP, read back OUT fields.
/// </summary>
internal sealed unsafe class DeviceModelOps
{
    private readonly Privcmd _privcmd;

    /// <summary>DM ops on <paramref name="domid"/> through <paramref name="privcmd"/>.</summary>
    public DeviceModelOps(Privcmd privcmd, ushort domid)
    {
        _privcmd = privcmd;
        Domid = domid;
    }

    /// <summary>The target domain.</summary>
    public ushort Domid { get; }

    /// <summary>XEN_DMOP_create_ioreq_server without buffered ioreqs: the new server's id.</summary>
    public ushort CreateIoreqServer()
    {
        xen_dm_op op = new() { op = DmOpConstants.XEN_DMOP_create_ioreq_server };
        op.U<xen_dm_op_create_ioreq_server>().handle_bufioreq = DmOpConstants.HVM_IOREQSRV_BUFIOREQ_OFF;
        Issue(ref op, "create_ioreq_server");
        return op.U<xen_dm_op_create_ioreq_server>().id;
    }

    /// <summary>XEN_DMOP_map_io_range_to_ioreq_server of [first, last] (inclusive) of a range type.</summary>
    public void MapIoRange(ushort server, uint type, ulong first, ulong last)
    {
        xen_dm_op op = new() { op = DmOpConstants.XEN_DMOP_map_io_range_to_ioreq_server };
        op.U<xen_dm_op_ioreq_server_range>() = new() { id = server, type = type, start = first, end = last };
        Issue(ref op, $"map_io_range {type}:0x{first:x}-0x{last:x}");
    }

    /// <summary>XEN_DMOP_unmap_io_range_from_ioreq_server of [first, last].</summary>
    public void UnmapIoRange(ushort server, uint type, ulong first, ulong last)
    {
        xen_dm_op op = new() { op = DmOpConstants.XEN_DMOP_unmap_io_range_from_ioreq_server };
        op.U<xen_dm_op_ioreq_server_range>() = new() { id = server, type = type, start = first, end = last };
        Issue(ref op, $"unmap_io_range {type}:0x{first:x}-0x{last:x}");
    }

    /// <summary>XEN_DMOP_set_ioreq_server_state.</summary>
    public void SetIoreqServerState(ushort server, bool enabled)
    {
        xen_dm_op op = new() { op = DmOpConstants.XEN_DMOP_set_ioreq_server_state };
        op.U<xen_dm_op_set_ioreq_server_state>() = new() { id = server, enabled = enabled ? (byte)1 : (byte)0 };
        Issue(ref op, "set_ioreq_server_state");
    }

    /// <summary>XEN_DMOP_destroy_ioreq_server.</summary>
    public void DestroyIoreqServer(ushort server)
    {
        xen_dm_op op = new() { op = DmOpConstants.XEN_DMOP_destroy_ioreq_server };
        op.U<xen_dm_op_destroy_ioreq_server>() = new() { id = server };
        Issue(ref op, "destroy_ioreq_server");
    }

    /// <summary>XEN_DMOP_set_isa_irq_level (x86: ISA IRQ 0-15).</summary>
    public void SetIsaIrqLevel(byte isaIrq, bool asserted)
    {
        xen_dm_op op = new() { op = DmOpConstants.XEN_DMOP_set_isa_irq_level };
        op.U<xen_dm_op_set_isa_irq_level>() = new() { isa_irq = isaIrq, level = asserted ? (byte)1 : (byte)0 };
        Issue(ref op, $"set_isa_irq_level {isaIrq}");
    }

    /// <summary>XEN_DMOP_set_irq_level (Arm SPIs).</summary>
    public void SetIrqLevel(uint irq, bool asserted)
    {
        xen_dm_op op = new() { op = DmOpConstants.XEN_DMOP_set_irq_level };
        op.U<xen_dm_op_set_irq_level>() = new() { irq = irq, level = asserted ? (byte)1 : (byte)0 };
        Issue(ref op, $"set_irq_level {irq}");
    }

    /// <summary>XEN_DMOP_nr_vcpus: how many vCPU slots the ioreq page has.</summary>
    public uint NrVcpus()
    {
        xen_dm_op op = new() { op = DmOpConstants.XEN_DMOP_nr_vcpus };
        Issue(ref op, "nr_vcpus");
        return op.U<xen_dm_op_nr_vcpus>().vcpus;
    }

    private void Issue(ref xen_dm_op op, string what)
    {
        fixed (xen_dm_op* p = &op)
        {
            privcmd_dm_op_buf buf = new() { uptr = (ulong)p, size = (ulong)sizeof(xen_dm_op) };
            int rc = _privcmd.DmOp(Domid, new ReadOnlySpan<privcmd_dm_op_buf>(&buf, 1));
            if (rc < 0)
                throw new XenException($"dm_op {what} dom{Domid}", -rc);
        }
    }
}
