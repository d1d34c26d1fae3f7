using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Xen.Abi;
using XenVnvdimm.DeviceModel.Xen.Events;

namespace XenVnvdimm.DeviceModel.Xen.Ioreq;

/// <summary>
/// A secondary ioreq server beside QEMU, set up in the order proven in the Xen lab: create (no buffered
/// ioreqs), acquire the synchronous ioreq page (XENMEM_acquire_resource through privcmd), map the ranges,
/// enable, bind each vCPU's vp_eport. A loop thread then takes READY requests, answers them and notifies.
/// Torn down in reverse. Every request is completed whatever its type, or the vCPU would stall.
/// </summary>
internal sealed unsafe class IoreqServer : IIoreqServer
{
    private const int SlotSize = 32;

    private readonly DeviceModelOps _dm;
    private readonly Privcmd _privcmd;
    private readonly IEventChannel _evtchn;
    private readonly IoHandler _handler;
    private readonly ILogger _log;
    private readonly List<IoRange> _ranges = [];
    private readonly Dictionary<uint, int> _vcpuOfPort = [];
    private readonly uint[] _portOfVcpu;
    private byte* _page;
    private uint _pages;
    private bool _created;
    private bool _enabled;
    private Thread? _thread;
    private volatile bool _stop;
    private long _completed;
    private long _refused;
    private readonly TaskCompletionSource<XenException> _fault = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private IoreqServer(DeviceModelOps dm, Privcmd privcmd, IEventChannel evtchn, IoHandler handler, ILogger log, uint vcpus)
    {
        _dm = dm;
        _privcmd = privcmd;
        _evtchn = evtchn;
        _handler = handler;
        _log = log;
        _portOfVcpu = new uint[vcpus];
    }

    /// <inheritdoc/>
    public ushort Id { get; private set; }

    /// <summary>Number of vCPU slots served.</summary>
    public int Vcpus => _portOfVcpu.Length;

    /// <inheritdoc/>
    public long Completed => Interlocked.Read(ref _completed);

    /// <inheritdoc/>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Creates, sets up and starts a server for <paramref name="ranges"/>; on failure undoes every stage done.</summary>
    public static IoreqServer Start(DeviceModelOps dm, Privcmd privcmd, IEventChannel evtchn, IEnumerable<IoRange> ranges,
        IoHandler handler, ILogger log)
    {
        uint vcpus = dm.NrVcpus();
        if (vcpus == 0 || vcpus > 4096)
            throw new XenException($"dom{dm.Domid} reports {vcpus} vCPUs", XenConstants.XEN_EINVAL);
        var s = new IoreqServer(dm, privcmd, evtchn, handler, log, vcpus);
        try
        {
            s.Id = dm.CreateIoreqServer();
            s._created = true;
            s._pages = (uint)((vcpus * SlotSize + XenInternal.PageSize - 1) / XenInternal.PageSize);
            s._page = (byte*)privcmd.MapResource(dm.Domid, MemoryConstants.XENMEM_resource_ioreq_server, s.Id,
                MemoryConstants.XENMEM_resource_ioreq_server_frame_ioreq_0, s._pages);
            foreach (var r in ranges)
            {
                dm.MapIoRange(s.Id, r.Space == IoSpace.Port ? DmOpConstants.XEN_DMOP_IO_RANGE_PORT : DmOpConstants.XEN_DMOP_IO_RANGE_MEMORY, r.First, r.Last);
                s._ranges.Add(r);
            }
            dm.SetIoreqServerState(s.Id, enabled: true);
            s._enabled = true;
            for (int v = 0; v < vcpus; v++)
            {
                uint remote = Volatile.Read(ref s.Slot(v).vp_eport);
                uint local = evtchn.BindInterdomain(dm.Domid, remote);
                s._portOfVcpu[v] = local;
                s._vcpuOfPort[local] = v;
            }
            s._thread = new Thread(s.Loop) { IsBackground = true, Name = $"ioreq dom{dm.Domid} server {s.Id}" };
            s._thread.Start();
            log.LogInformation("dom{Domid}: ioreq server {Id} serving {Vcpus} vCPUs, ranges {Ranges}", dm.Domid, s.Id, vcpus,
                string.Join(", ", s._ranges.Select(r => $"{r.Space}:0x{r.First:x}-0x{r.Last:x}")));
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    private ref ioreq_t Slot(int vcpu) => ref ((ioreq_t*)_page)[vcpu];

    private void Loop()
    {
        try
        {
            // A request may have become READY before its port was bound: look at every slot once.
            for (int v = 0; v < Vcpus; v++)
                Serve(v);
            while (!_stop)
            {
                if (!_evtchn.TryWait(100, out uint port))
                    continue;
                _evtchn.Unmask(port);
                if (_vcpuOfPort.TryGetValue(port, out int vcpu))
                    Serve(vcpu);
            }
        }
        catch (XenException e)
        {
            // An unhandled exception on this thread would kill the process; the guest's vCPUs stall instead,
            // and the failure is reported.
            _log.LogCritical("dom{Domid}: ioreq server {Id} stopped: {Error}", _dm.Domid, Id, e.Message);
            _fault.TrySetResult(e);
        }
    }

    /// <inheritdoc/>
    public Task<XenException> Fault => _fault.Task;

    /// <summary>Answers the vCPU's request if one is READY (spurious events are ignored).</summary>
    private void Serve(int vcpu)
    {
        ref ioreq_t slot = ref Slot(vcpu);
        // Acquire: the request's fields are read only after its READY state is seen.
        byte bits = Volatile.Read(ref slot.bits);
        if ((bits & IoreqConstants.IOREQ_STATE_MASK) != IoreqConstants.STATE_IOREQ_READY)
            return;
        ioreq_t req = slot;
        slot.bits = (byte)((bits & ~IoreqConstants.IOREQ_STATE_MASK) | IoreqConstants.STATE_IOREQ_INPROCESS);

        ulong data = Answer(vcpu, req, bits);

        slot.data = data;
        // Release: data is visible before IORESP_READY is.
        Volatile.Write(ref slot.bits, (byte)((bits & ~IoreqConstants.IOREQ_STATE_MASK) | IoreqConstants.STATE_IORESP_READY));
        Interlocked.Increment(ref _completed);
        _evtchn.Notify(_portOfVcpu[vcpu]);
    }

    private ulong Answer(int vcpu, in ioreq_t req, byte bits)
    {
        bool isRead = (bits & IoreqConstants.IOREQ_DIR_MASK) != 0;
        if (req.type != IoreqConstants.IOREQ_TYPE_PIO && req.type != IoreqConstants.IOREQ_TYPE_COPY)
            return req.data; // INVALIDATE, TIMEOFFSET, ...: nothing to do but complete it.

        ulong ones = req.size is 1 or 2 or 4 ? (1UL << (int)(req.size * 8)) - 1 : ulong.MaxValue;
        string? refuse =
            (bits & IoreqConstants.IOREQ_DATA_IS_PTR_MASK) != 0 ? "data_is_ptr" :
            req.size is not (1 or 2 or 4 or 8) ? $"size {req.size}" :
            req.count != 1 ? $"count {req.count}" :
            null;
        if (refuse is not null)
        {
            Interlocked.Increment(ref _refused);
            _log.LogDebug("vCPU {Vcpu}: refused ioreq ({Reason}) at 0x{Addr:x}", vcpu, refuse, req.addr);
            return isRead ? ones : req.data;
        }

        var space = req.type == IoreqConstants.IOREQ_TYPE_PIO ? IoSpace.Port : IoSpace.Memory;
        var request = new IoRequest(vcpu, space, isRead, req.addr, req.size, isRead ? 0 : req.data & ones);
        try
        {
            ulong result = _handler(request);
            return isRead ? result & ones : req.data;
        }
        catch (Exception e)
        {
            // A device bug must not stall the guest's vCPU: answer all-ones and keep serving.
            Interlocked.Increment(ref _refused);
            _log.LogError(e, "vCPU {Vcpu}: handler failed for {Request}", vcpu, request);
            return isRead ? ones : req.data;
        }
    }

    /// <inheritdoc/>
    public void DomainGone()
    {
        _enabled = false;
        _created = false;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _stop = true;
        if (_thread is not null && _thread != Thread.CurrentThread)
            _thread.Join();
        _thread = null;
        foreach (uint port in _portOfVcpu.Where(p => p != 0))
            TryStep(() => _evtchn.Unbind(port));
        Array.Clear(_portOfVcpu);
        _vcpuOfPort.Clear();
        if (_enabled)
            TryStep(() => _dm.SetIoreqServerState(Id, enabled: false));
        _enabled = false;
        if (_page != null)
            _privcmd.Unmap(_page, _pages);
        _page = null;
        if (_created)
            TryStep(() => _dm.DestroyIoreqServer(Id)); // destroy also unmaps the server's ranges
        _created = false;
    }

    private void TryStep(Action step)
    {
        try
        {
            step();
        }
        catch (XenException e)
        {
            _log.LogWarning("ioreq server {Id} teardown: {Error}", Id, e.Message);
        }
    }
}
