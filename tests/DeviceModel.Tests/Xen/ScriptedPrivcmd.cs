using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.Tests.Xen;

/// <summary>
/// A fake privcmd with the same scripted memory_mapping answers as c/libxc_trace.c's fake kernel, so the
/// C# loop and libxc's loop can be compared call by call. Records "mm GFN MFN NR ADD RC" lines.
/// </summary>
internal sealed unsafe class ScriptedPrivcmd : IXenDevice
{
    private long _adds;
    private long _removes;

    public ulong Percall { get; set; } = ulong.MaxValue;

    public ulong Maxbatch { get; set; } = ulong.MaxValue;

    public long FailAdd { get; set; } = -1;

    public long FailRemove { get; set; } = -1;

    public List<string> Calls { get; } = [];

    public string Path => "scripted:/dev/xen/privcmd";

    public int Ioctl(uint request, void* arg)
    {
        if (request != PrivcmdIoctls.IOCTL_PRIVCMD_HYPERCALL)
            return -25;
        var h = (privcmd_hypercall*)arg;
        if (h->op == XenConstants.__HYPERVISOR_xen_version)
            return (4 << 16) | 17;
        if (h->op != XenConstants.__HYPERVISOR_domctl)
            return -XenConstants.XEN_ENOSYS;
        var d = (xen_domctl*)h->arg[0];
        if (d->cmd != DomctlConstants.XEN_DOMCTL_memory_mapping)
            return 0;
        ref var m = ref d->U<xen_domctl_memory_mapping>();
        bool add = m.add_mapping != 0;
        int rc = 0;
        if (add ? _adds++ == FailAdd : _removes++ == FailRemove)
            rc = -XenConstants.XEN_ENOMEM;
        else if (m.nr_mfns > Maxbatch)
            rc = -XenConstants.XEN_E2BIG;
        else if (m.nr_mfns > Percall)
            rc = (int)Percall;
        Calls.Add($"mm {m.first_gfn:x} {m.first_mfn:x} {m.nr_mfns:x} {m.add_mapping} {rc}");
        return rc;
    }

    public void* Map(nuint length) => new SimHypercallDeviceAdapter().Map(length);

    public void Unmap(void* address, nuint length) => new SimHypercallDeviceAdapter().Unmap(address, length);

    public int Read(Span<byte> buffer) => -22;

    public int Write(ReadOnlySpan<byte> data) => -22;

    public bool WaitReadable(int timeoutMs) => false;

    public void Dispose()
    {
    }

    // Anonymous shared memory, as the simulator's hypercall device gives.
    private sealed class SimHypercallDeviceAdapter
    {
        private readonly DeviceModel.Xen.Sim.SimHypercallDevice _inner = new();

        public void* Map(nuint length) => _inner.Map(length);

        public void Unmap(void* address, nuint length) => _inner.Unmap(address, length);
    }
}
