using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>
/// A guest vCPU of the simulator. Its port and MMIO accesses follow Xen's synchronous ioreq protocol:
/// fill the slot, publish READY (release), notify vp_eport, sleep until dom0 notifies back and the slot
/// says IORESP_READY (acquire), take the data, set NONE. Accesses nobody claims read as all-ones.
/// </summary>
internal sealed class SimVcpu
{
    private readonly SimHypervisor _hv;

    /// <summary>vCPU <paramref name="index"/> of <paramref name="domain"/>.</summary>
    public SimVcpu(SimHypervisor hv, SimDomain domain, int index)
    {
        if (index < 0 || index >= domain.Vcpus)
            throw new ArgumentOutOfRangeException(nameof(index));
        _hv = hv;
        Domain = domain;
        Index = index;
    }

    /// <summary>The domain.</summary>
    public SimDomain Domain { get; }

    /// <summary>vCPU number.</summary>
    public int Index { get; }

    /// <summary>How long to wait for an answer before declaring the device model stuck.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>IN from <paramref name="port"/>.</summary>
    public ulong In(ushort port, uint size) => Access(IoreqConstants.IOREQ_TYPE_PIO, DmOpConstants.XEN_DMOP_IO_RANGE_PORT, true, port, size, 0);

    /// <summary>OUT to <paramref name="port"/>.</summary>
    public void Out(ushort port, uint size, ulong value) => Access(IoreqConstants.IOREQ_TYPE_PIO, DmOpConstants.XEN_DMOP_IO_RANGE_PORT, false, port, size, value);

    /// <summary>MMIO read at guest physical <paramref name="address"/>.</summary>
    public ulong Read(ulong address, uint size) => Access(IoreqConstants.IOREQ_TYPE_COPY, DmOpConstants.XEN_DMOP_IO_RANGE_MEMORY, true, address, size, 0);

    /// <summary>MMIO write at guest physical <paramref name="address"/>.</summary>
    public void Write(ulong address, uint size, ulong value) => Access(IoreqConstants.IOREQ_TYPE_COPY, DmOpConstants.XEN_DMOP_IO_RANGE_MEMORY, false, address, size, value);

    private ulong Access(byte ioreqType, uint rangeType, bool read, ulong addr, uint size, ulong value)
    {
        ulong ones = size >= 8 ? ulong.MaxValue : (1UL << (int)(size * 8)) - 1;
        var server = _hv.RouteAccess(Domain, rangeType, addr, size);
        if (server is null)
            return read ? ones : 0;
        var req = new ioreq_t
        {
            addr = addr,
            data = read ? 0 : value & ones,
            count = 1,
            size = size,
            type = ioreqType,
            bits = read ? IoreqConstants.IOREQ_DIR_MASK : (byte)0,
        };
        return Send(server, req).data & ones;
    }

    /// <summary>
    /// Sends any request, even a malformed one, to <paramref name="server"/> and returns the slot as the
    /// device model left it. Throws <see cref="TimeoutException"/> if it is never completed.
    /// </summary>
    public ioreq_t Send(SimIoreqServer server, ioreq_t request)
    {
        if (!server.TryEnter())
            throw new InvalidOperationException($"vCPU {Index}: ioreq server {server.Id} was destroyed");
        try
        {
            ref ioreq_t slot = ref server.Slot(Index);
            if ((Volatile.Read(ref slot.bits) & IoreqConstants.IOREQ_STATE_MASK) != IoreqConstants.STATE_IOREQ_NONE)
                throw new InvalidOperationException($"vCPU {Index}: slot busy");
            uint port = server.Ports[Index];
            slot.addr = request.addr;
            slot.data = request.data;
            slot.count = request.count;
            slot.size = request.size;
            slot.type = request.type;
            slot.vp_eport = port;
            // Release: the request is visible before READY is.
            Volatile.Write(ref slot.bits, (byte)((request.bits & ~IoreqConstants.IOREQ_STATE_MASK) | IoreqConstants.STATE_IOREQ_READY));
            _hv.Events.NotifyFromXen(Domain.Domid, port);

            var deadline = DateTime.UtcNow + Timeout;
            while ((Volatile.Read(ref slot.bits) & IoreqConstants.IOREQ_STATE_MASK) != IoreqConstants.STATE_IORESP_READY)
            {
                if (server.Destroyed)
                    throw new InvalidOperationException($"vCPU {Index}: ioreq server {server.Id} was destroyed while the vCPU waited at 0x{request.addr:x}");
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                    throw new TimeoutException($"vCPU {Index}: device model did not answer the ioreq at 0x{request.addr:x}");
                server.Wake[Index].Wait(left);
            }
            ioreq_t answer = slot;
            Volatile.Write(ref slot.bits, (byte)(answer.bits & ~IoreqConstants.IOREQ_STATE_MASK));
            return answer;
        }
        finally
        {
            server.Leave();
        }
    }
}
