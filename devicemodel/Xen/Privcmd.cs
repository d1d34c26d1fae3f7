using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Xen;

/// <summary>
/// /dev/xen/privcmd as libxencall, libxendevicemodel and libxenforeignmemory use it: raw hypercalls,
/// DM ops, resource and foreign mappings, and the restriction to one domain.
/// </summary>
internal sealed unsafe class Privcmd
{
    private readonly IXenDevice _device;
    private readonly IXenDevice? _hypercallDevice;
    private long _ioctls;

    /// <summary>Wraps the open devices (not owned).</summary>
    public Privcmd(IXenDevice privcmd, IXenDevice? hypercallDevice)
    {
        _device = privcmd;
        _hypercallDevice = hypercallDevice;
    }

    /// <summary>ioctls issued so far (each hypercall, DM op or mapping request counts once).</summary>
    public long IoctlCount => Interlocked.Read(ref _ioctls);

    /// <summary>Allocates a locked hypercall buffer.</summary>
    public HypercallBuffer AllocateBuffer(nuint bytes) => HypercallBuffer.Allocate(_hypercallDevice, bytes);

    /// <summary>IOCTL_PRIVCMD_HYPERCALL: the hypercall's result (may be positive), or a negated errno.</summary>
    public long Hypercall(ulong op, ulong a0 = 0, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0, ulong a4 = 0)
    {
        privcmd_hypercall h = default;
        h.op = op;
        h.arg[0] = a0;
        h.arg[1] = a1;
        h.arg[2] = a2;
        h.arg[3] = a3;
        h.arg[4] = a4;
        return Issue(PrivcmdIoctls.IOCTL_PRIVCMD_HYPERCALL, &h);
    }

    /// <summary>IOCTL_PRIVCMD_DM_OP with the given buffers: 0, or a negated errno.</summary>
    public int DmOp(ushort domid, ReadOnlySpan<privcmd_dm_op_buf> buffers)
    {
        fixed (privcmd_dm_op_buf* b = buffers)
        {
            privcmd_dm_op op = new() { dom = domid, num = checked((ushort)buffers.Length), ubufs = (ulong)b };
            return Issue(PrivcmdIoctls.IOCTL_PRIVCMD_DM_OP, &op);
        }
    }

    /// <summary>
    /// IOCTL_PRIVCMD_MMAP_RESOURCE: maps <paramref name="frames"/> frames of a domain's resource (privcmd
    /// issues XENMEM_acquire_resource). Returns the mapping, to be released with <see cref="Unmap"/>.
    /// </summary>
    public void* MapResource(ushort domid, uint type, uint id, uint firstFrame, uint frames)
    {
        nuint length = (nuint)frames * (nuint)XenInternal.PageSize;
        void* a = _device.Map(length);
        privcmd_mmap_resource r = new() { dom = domid, type = type, id = id, idx = firstFrame, num = frames, addr = (ulong)a };
        int rc = Issue(PrivcmdIoctls.IOCTL_PRIVCMD_MMAP_RESOURCE, &r);
        if (rc < 0)
        {
            _device.Unmap(a, length);
            throw new XenException($"IOCTL_PRIVCMD_MMAP_RESOURCE dom{domid} type {type} id {id} frame {firstFrame}+{frames}", -rc);
        }
        return a;
    }

    /// <summary>
    /// IOCTL_PRIVCMD_MMAPBATCH_V2 of one guest frame: maps guest page <paramref name="gfn"/> of
    /// <paramref name="domid"/> into this process. Both the ioctl and the per-page error are checked.
    /// </summary>
    public void* MapForeignPage(ushort domid, ulong gfn)
    {
        nuint length = (nuint)XenInternal.PageSize;
        void* a = _device.Map(length);
        ulong frame = gfn;
        int err = 0;
        privcmd_mmapbatch_v2 m = new() { num = 1, dom = domid, addr = (ulong)a, arr = (ulong)&frame, err = (ulong)&err };
        int rc = Issue(PrivcmdIoctls.IOCTL_PRIVCMD_MMAPBATCH_V2, &m);
        if (rc < 0 || err != 0)
        {
            _device.Unmap(a, length);
            throw new XenException($"IOCTL_PRIVCMD_MMAPBATCH_V2 dom{domid} gfn 0x{gfn:x}", rc < 0 ? -rc : -err);
        }
        return a;
    }

    /// <summary>Releases a mapping made by <see cref="MapResource"/> or <see cref="MapForeignPage"/>.</summary>
    public void Unmap(void* address, uint frames) => _device.Unmap(address, (nuint)frames * (nuint)XenInternal.PageSize);

    /// <summary>
    /// IOCTL_PRIVCMD_RESTRICT: from now on this file may only act on <paramref name="domid"/> (DM ops and
    /// mappings); raw hypercalls are refused. Done once start-up hypercalls are over.
    /// </summary>
    public void Restrict(ushort domid)
    {
        ushort d = domid;
        int rc = Issue(PrivcmdIoctls.IOCTL_PRIVCMD_RESTRICT, &d);
        if (rc < 0)
            throw new XenException($"IOCTL_PRIVCMD_RESTRICT dom{domid}", -rc);
    }

    private int Issue(uint request, void* arg)
    {
        Interlocked.Increment(ref _ioctls);
        return _device.Ioctl(request, arg);
    }
}
