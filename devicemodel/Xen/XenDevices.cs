namespace XenVnvdimm.DeviceModel.Xen;

/// <summary>
/// The three Xen device files a companion needs. On a Xen host they are /dev/xen/*; under test they are
/// the simulated hypervisor's devices, so the same code runs above both.
/// </summary>
internal sealed class XenDevices : IDisposable
{
    /// <summary>Bundles already opened devices; takes ownership.</summary>
    public XenDevices(IXenDevice privcmd, IXenDevice evtchn, IXenDevice? hypercall)
    {
        Privcmd = privcmd;
        Evtchn = evtchn;
        Hypercall = hypercall;
    }

    /// <summary>/dev/xen/privcmd: hypercalls, DM ops, foreign and resource mappings.</summary>
    public IXenDevice Privcmd { get; }

    /// <summary>/dev/xen/evtchn: event channels.</summary>
    public IXenDevice Evtchn { get; }

    /// <summary>/dev/xen/hypercall: locked hypercall buffers; null where the kernel lacks it.</summary>
    public IXenDevice? Hypercall { get; }

    /// <summary>Opens the host's devices; /dev/xen/hypercall is optional (older kernels).</summary>
    public static XenDevices OpenHost()
    {
        var privcmd = LinuxXenDevice.Open("/dev/xen/privcmd");
        try
        {
            var evtchn = LinuxXenDevice.Open("/dev/xen/evtchn");
            IXenDevice? hypercall = File.Exists("/dev/xen/hypercall") ? LinuxXenDevice.Open("/dev/xen/hypercall") : null;
            return new XenDevices(privcmd, evtchn, hypercall);
        }
        catch
        {
            privcmd.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Hypercall?.Dispose();
        Evtchn.Dispose();
        Privcmd.Dispose();
    }
}
