namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>
/// Event channels between the simulated hypervisor's own ports (one per vCPU per ioreq server, like Xen's
/// vp_eport) and dom0 ports bound through <see cref="SimEvtchnDevice"/>. A notification is a signal.
/// </summary>
internal sealed class SimEventChannels
{
    private sealed class XenPort(Action onNotify)
    {
        public Action OnNotify { get; } = onNotify;
        public uint? Local { get; set; }
    }

    private readonly Lock _lock = new();
    private readonly Dictionary<(ushort Dom, uint Port), XenPort> _xen = [];
    private readonly Dictionary<uint, (SimEvtchnDevice Device, ushort Dom, uint Port)> _local = [];
    private readonly Dictionary<ushort, uint> _nextXenPort = [];
    private uint _nextLocal = 1;
    private int _failNotifies;

    /// <summary>
    /// Makes the next <paramref name="count"/> dom0 notifications fail with EIO, as a broken evtchn
    /// driver would: the ioreq loop must survive it (tests inject ioreq-loop faults this way).
    /// </summary>
    public void FailNotifies(int count) => Interlocked.Exchange(ref _failNotifies, count);

    /// <summary>Allocates a port of <paramref name="dom"/> that dom0 may bind; notifications to it run <paramref name="onNotify"/>.</summary>
    public uint AllocXenPort(ushort dom, Action onNotify)
    {
        lock (_lock)
        {
            uint port = _nextXenPort.GetValueOrDefault(dom, 1u);
            _nextXenPort[dom] = port + 1;
            _xen[(dom, port)] = new XenPort(onNotify);
            return port;
        }
    }

    /// <summary>Closes a hypervisor port (server destroyed); a dom0 port bound to it goes dead.</summary>
    public void CloseXenPort(ushort dom, uint port)
    {
        lock (_lock)
            _xen.Remove((dom, port));
    }

    /// <summary>IOCTL_EVTCHN_BIND_INTERDOMAIN: the local port, or a negated errno.</summary>
    public int Bind(SimEvtchnDevice device, ushort dom, uint port)
    {
        lock (_lock)
        {
            if (!_xen.TryGetValue((dom, port), out var x) || x.Local is not null)
                return -22;
            uint local = _nextLocal++;
            x.Local = local;
            _local[local] = (device, dom, port);
            return (int)local;
        }
    }

    /// <summary>IOCTL_EVTCHN_UNBIND: 0 or a negated errno (-ENOTCONN: not bound by this file).</summary>
    public int Unbind(SimEvtchnDevice device, uint local)
    {
        lock (_lock)
        {
            if (!_local.TryGetValue(local, out var l) || l.Device != device)
                return -107;
            _local.Remove(local);
            if (_xen.TryGetValue((l.Dom, l.Port), out var x))
                x.Local = null;
            return 0;
        }
    }

    /// <summary>IOCTL_EVTCHN_NOTIFY from dom0.</summary>
    public int Notify(SimEvtchnDevice device, uint local)
    {
        int left;
        do
        {
            left = Volatile.Read(ref _failNotifies);
        }
        while (left > 0 && Interlocked.CompareExchange(ref _failNotifies, left - 1, left) != left);
        if (left > 0)
            return -5; // EIO
        Action? target = null;
        lock (_lock)
        {
            if (!_local.TryGetValue(local, out var l) || l.Device != device)
                return -107;
            if (_xen.TryGetValue((l.Dom, l.Port), out var x))
                target = x.OnNotify;
        }
        target?.Invoke();
        return 0;
    }

    /// <summary>The hypervisor signals one of its ports; the bound dom0 port (if any) becomes pending.</summary>
    public void NotifyFromXen(ushort dom, uint port)
    {
        SimEvtchnDevice? device = null;
        uint local = 0;
        lock (_lock)
        {
            if (_xen.TryGetValue((dom, port), out var x) && x.Local is uint l)
            {
                device = _local[l].Device;
                local = l;
            }
        }
        device?.Deliver(local);
    }
}
