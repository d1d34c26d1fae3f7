using System.Runtime.InteropServices;
using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>
/// The simulator's /dev/xen/evtchn: decodes the same ioctl structs as Linux's driver, reports pending
/// ports through read() and masks each reported port until it is written back (unmasked).
/// </summary>
internal sealed unsafe class SimEvtchnDevice : IXenDevice
{
    private readonly SimEventChannels _hub;
    private readonly object _gate = new();
    private readonly Queue<uint> _ring = new();
    private readonly HashSet<uint> _masked = [];
    private readonly HashSet<uint> _pendingWhileMasked = [];
    private ushort? _restrictedTo;
    private bool _closed;

    /// <summary>Opens the device on <paramref name="hub"/>.</summary>
    public SimEvtchnDevice(SimEventChannels hub) => _hub = hub;

    /// <inheritdoc/>
    public string Path => "sim:/dev/xen/evtchn";

    /// <inheritdoc/>
    public int Ioctl(uint request, void* arg)
    {
        if (request == EvtchnIoctls.IOCTL_EVTCHN_BIND_INTERDOMAIN)
        {
            var b = (ioctl_evtchn_bind_interdomain*)arg;
            if (b->remote_domain > ushort.MaxValue || (_restrictedTo is ushort r && r != b->remote_domain))
                return -22;
            return _hub.Bind(this, (ushort)b->remote_domain, b->remote_port);
        }
        if (request == EvtchnIoctls.IOCTL_EVTCHN_UNBIND)
        {
            uint port = ((ioctl_evtchn_unbind*)arg)->port;
            lock (_gate)
            {
                _masked.Remove(port);
                _pendingWhileMasked.Remove(port);
            }
            return _hub.Unbind(this, port);
        }
        if (request == EvtchnIoctls.IOCTL_EVTCHN_NOTIFY)
            return _hub.Notify(this, ((ioctl_evtchn_notify*)arg)->port);
        if (request == EvtchnIoctls.IOCTL_EVTCHN_RESTRICT_DOMID)
        {
            ushort d = ((ioctl_evtchn_restrict_domid*)arg)->domid;
            if (_restrictedTo is ushort r && r != d)
                return -22;
            _restrictedTo = d;
            return 0;
        }
        return -25; // ENOTTY
    }

    /// <summary>The hub marks <paramref name="local"/> pending.</summary>
    public void Deliver(uint local)
    {
        lock (_gate)
        {
            if (_masked.Contains(local))
            {
                _pendingWhileMasked.Add(local);
                return;
            }
            _masked.Add(local);
            _ring.Enqueue(local);
            Monitor.PulseAll(_gate);
        }
    }

    /// <inheritdoc/>
    public int Read(Span<byte> buffer)
    {
        var ports = MemoryMarshal.Cast<byte, uint>(buffer);
        if (ports.Length == 0)
            return -22;
        lock (_gate)
        {
            while (_ring.Count == 0 && !_closed)
                Monitor.Wait(_gate);
            int n = 0;
            while (n < ports.Length && _ring.TryDequeue(out uint p))
                ports[n++] = p;
            return n * sizeof(uint);
        }
    }

    /// <inheritdoc/>
    public int Write(ReadOnlySpan<byte> data)
    {
        var ports = MemoryMarshal.Cast<byte, uint>(data);
        lock (_gate)
        {
            foreach (uint p in ports)
            {
                _masked.Remove(p);
                if (_pendingWhileMasked.Remove(p))
                {
                    _masked.Add(p);
                    _ring.Enqueue(p);
                    Monitor.PulseAll(_gate);
                }
            }
        }
        return ports.Length * sizeof(uint);
    }

    /// <inheritdoc/>
    public bool WaitReadable(int timeoutMs)
    {
        lock (_gate)
        {
            if (_ring.Count == 0 && !_closed)
                Monitor.Wait(_gate, timeoutMs);
            return _ring.Count > 0;
        }
    }

    /// <inheritdoc/>
    public void* Map(nuint length) => throw new XenException("mmap of evtchn", 19);

    /// <inheritdoc/>
    public void Unmap(void* address, nuint length)
    {
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate)
        {
            _closed = true;
            Monitor.PulseAll(_gate);
        }
    }
}
