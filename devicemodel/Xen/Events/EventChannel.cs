using System.Runtime.InteropServices;
using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Xen.Events;

/// <summary>
/// /dev/xen/evtchn as libxenevtchn uses it: ioctls to bind/notify/unbind, read() for pending ports
/// (each a 32-bit port number; the driver masks a port when it reports it), write() to unmask.
/// One reader thread; any thread may notify.
/// </summary>
internal sealed unsafe class EventChannel : IEventChannel
{
    private readonly IXenDevice _device;
    private readonly Queue<uint> _pending = new();
    private readonly HashSet<uint> _bound = [];
    private readonly Lock _lock = new();

    /// <summary>Uses an open evtchn device (not owned).</summary>
    public EventChannel(IXenDevice device) => _device = device;

    /// <inheritdoc/>
    public uint BindInterdomain(ushort remoteDomain, uint remotePort)
    {
        var b = new ioctl_evtchn_bind_interdomain { remote_domain = remoteDomain, remote_port = remotePort };
        int rc = _device.Ioctl(EvtchnIoctls.IOCTL_EVTCHN_BIND_INTERDOMAIN, &b);
        if (rc < 0)
            throw new XenException($"IOCTL_EVTCHN_BIND_INTERDOMAIN dom{remoteDomain} port {remotePort}", -rc);
        lock (_lock)
            _bound.Add((uint)rc);
        return (uint)rc;
    }

    /// <inheritdoc/>
    public void Unbind(uint localPort)
    {
        var u = new ioctl_evtchn_unbind { port = localPort };
        int rc = _device.Ioctl(EvtchnIoctls.IOCTL_EVTCHN_UNBIND, &u);
        lock (_lock)
            _bound.Remove(localPort);
        if (rc < 0)
            throw new XenException($"IOCTL_EVTCHN_UNBIND port {localPort}", -rc);
    }

    /// <inheritdoc/>
    public void Notify(uint localPort)
    {
        var n = new ioctl_evtchn_notify { port = localPort };
        int rc = _device.Ioctl(EvtchnIoctls.IOCTL_EVTCHN_NOTIFY, &n);
        if (rc < 0)
            throw new XenException($"IOCTL_EVTCHN_NOTIFY port {localPort}", -rc);
    }

    /// <summary>IOCTL_EVTCHN_RESTRICT_DOMID: this file may only bind to <paramref name="domid"/> from now on.</summary>
    public void Restrict(ushort domid)
    {
        var r = new ioctl_evtchn_restrict_domid { domid = domid };
        int rc = _device.Ioctl(EvtchnIoctls.IOCTL_EVTCHN_RESTRICT_DOMID, &r);
        if (rc < 0)
            throw new XenException($"IOCTL_EVTCHN_RESTRICT_DOMID dom{domid}", -rc);
    }

    /// <inheritdoc/>
    public bool TryWait(int timeoutMs, out uint localPort)
    {
        if (_pending.TryDequeue(out localPort))
            return true;
        if (!_device.WaitReadable(timeoutMs))
            return false;
        Span<uint> ports = stackalloc uint[64];
        int n = _device.Read(MemoryMarshal.AsBytes(ports));
        if (n < 0)
            throw new XenException("read /dev/xen/evtchn", -n);
        for (int i = 0; i < n / sizeof(uint); i++)
            _pending.Enqueue(ports[i]);
        return _pending.TryDequeue(out localPort);
    }

    /// <inheritdoc/>
    public void Unmask(uint localPort)
    {
        uint p = localPort;
        int rc = _device.Write(MemoryMarshal.AsBytes(new ReadOnlySpan<uint>(&p, 1)));
        if (rc < 0)
            throw new XenException($"unmask port {localPort}", -rc);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        uint[] ports;
        lock (_lock)
            ports = [.. _bound];
        foreach (uint p in ports)
        {
            try
            {
                Unbind(p);
            }
            catch (XenException)
            {
                // Best effort on teardown: the driver unbinds everything when the file closes anyway.
            }
        }
    }
}
