using Tmds.Linux;
using XenVnvdimm.DeviceModel.Xen.Abi;
using static Tmds.Linux.LibC;

namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>
/// The simulator's /dev/xen/privcmd: decodes the same ioctl structs Linux's privcmd driver does, applies
/// its checks (restriction, buffer limits, mapping within a privcmd VMA) and hands the request to the
/// simulated hypervisor. Its mmap gives shared anonymous memory that resource and foreign mappings alias.
/// </summary>
internal sealed unsafe class SimPrivcmdDevice : IXenDevice
{
    private const int PrivcmdDmOpMaxNum = 16;
    private const ulong PrivcmdDmOpBufMaxSize = 4096;
    private readonly SimHypervisor _hv;
    private readonly Dictionary<nint, nuint> _regions = [];
    private ushort? _restrictedTo;

    /// <summary>Opens the device on <paramref name="hv"/>.</summary>
    public SimPrivcmdDevice(SimHypervisor hv) => _hv = hv;

    /// <inheritdoc/>
    public string Path => "sim:/dev/xen/privcmd";

    /// <inheritdoc/>
    public int Ioctl(uint request, void* arg)
    {
        _hv.Counters.Add("ioctl");
        if (request == PrivcmdIoctls.IOCTL_PRIVCMD_HYPERCALL)
        {
            if (_restrictedTo is not null)
                return -XenConstants.XEN_EPERM; // a restricted file may not make raw hypercalls
            long rc = _hv.Hypercall(ref *(privcmd_hypercall*)arg);
            return rc < int.MinValue || rc > int.MaxValue ? -XenConstants.XEN_EINVAL : (int)rc;
        }
        if (request == PrivcmdIoctls.IOCTL_PRIVCMD_DM_OP)
            return DmOp((privcmd_dm_op*)arg);
        if (request == PrivcmdIoctls.IOCTL_PRIVCMD_MMAP_RESOURCE)
        {
            var r = (privcmd_mmap_resource*)arg;
            if (!Allowed(r->dom))
                return -XenConstants.XEN_EPERM;
            if (!InRegion(r->addr, r->num * XenInternal.PageSize))
                return -XenConstants.XEN_EINVAL;
            return _hv.MapResource(r->dom, r->type, r->id, r->idx, r->num, (void*)r->addr);
        }
        if (request == PrivcmdIoctls.IOCTL_PRIVCMD_MMAPBATCH_V2)
            return MmapBatch((privcmd_mmapbatch_v2*)arg);
        if (request == PrivcmdIoctls.IOCTL_PRIVCMD_RESTRICT)
        {
            ushort d = *(ushort*)arg;
            if (_restrictedTo is ushort r && r != d)
                return -XenConstants.XEN_EINVAL;
            _restrictedTo = d;
            return 0;
        }
        return -25; // ENOTTY
    }

    private int DmOp(privcmd_dm_op* op)
    {
        if (!Allowed(op->dom))
            return -XenConstants.XEN_EPERM;
        if (op->num == 0 || op->num > PrivcmdDmOpMaxNum)
            return -XenConstants.XEN_E2BIG;
        var bufs = (privcmd_dm_op_buf*)op->ubufs;
        for (int i = 0; i < op->num; i++)
        {
            if (bufs[i].size > PrivcmdDmOpBufMaxSize)
                return -XenConstants.XEN_E2BIG;
        }
        if (bufs[0].size < (ulong)sizeof(xen_dm_op))
            return -XenConstants.XEN_EFAULT;
        long rc = _hv.DmOp(op->dom, (xen_dm_op*)bufs[0].uptr);
        return (int)rc;
    }

    private int MmapBatch(privcmd_mmapbatch_v2* m)
    {
        if (!Allowed(m->dom))
            return -XenConstants.XEN_EPERM;
        if (m->num == 0 || !InRegion(m->addr, m->num * XenInternal.PageSize))
            return -XenConstants.XEN_EINVAL;
        var frames = (ulong*)m->arr;
        var errs = (int*)m->err;
        for (uint i = 0; i < m->num; i++)
            errs[i] = _hv.MapForeignFrame(m->dom, frames[i], (void*)(m->addr + i * XenInternal.PageSize));
        return 0; // per-frame errors are in err[]
    }

    private bool Allowed(ushort dom) => _restrictedTo is not ushort r || r == dom;

    private bool InRegion(ulong addr, ulong length)
    {
        lock (_regions)
            return _regions.TryGetValue((nint)addr, out nuint len) && (ulong)len == length;
    }

    /// <inheritdoc/>
    public void* Map(nuint length)
    {
        void* a = mmap(null, (size_t)(ulong)length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (a == MAP_FAILED)
            throw new XenException("mmap sim privcmd", errno);
        lock (_regions)
            _regions[(nint)a] = length;
        return a;
    }

    /// <inheritdoc/>
    public void Unmap(void* address, nuint length)
    {
        lock (_regions)
            _regions.Remove((nint)address);
        munmap(address, (size_t)(ulong)length);
    }

    /// <inheritdoc/>
    public int Read(Span<byte> buffer) => -22;

    /// <inheritdoc/>
    public int Write(ReadOnlySpan<byte> data) => -22;

    /// <inheritdoc/>
    public bool WaitReadable(int timeoutMs) => false;

    /// <inheritdoc/>
    public void Dispose()
    {
    }
}
