namespace XenVnvdimm.DeviceModel.Xen.Events;

/// <summary>Event channels of this process (/dev/xen/evtchn): bind, notify, wait, unmask.</summary>
internal interface IEventChannel : IDisposable
{
    /// <summary>Binds a local port to <paramref name="remotePort"/> of <paramref name="remoteDomain"/>; returns the local port.</summary>
    uint BindInterdomain(ushort remoteDomain, uint remotePort);

    /// <summary>Unbinds a local port.</summary>
    void Unbind(uint localPort);

    /// <summary>Signals the remote end of a local port.</summary>
    void Notify(uint localPort);

    /// <summary>Waits up to <paramref name="timeoutMs"/> for a pending port; the port stays masked until <see cref="Unmask"/>.</summary>
    bool TryWait(int timeoutMs, out uint localPort);

    /// <summary>Re-enables delivery on a port returned by <see cref="TryWait"/>.</summary>
    void Unmask(uint localPort);
}
