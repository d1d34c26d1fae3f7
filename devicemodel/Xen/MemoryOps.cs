using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Xen;

/// <summary>XENMEM_* and xen_version hypercalls, with arguments in locked buffers.</summary>
internal sealed unsafe class MemoryOps : IDisposable
{
    /// <summary>Extents per XENMEM_decrease_reservation call (a 512 KiB extent list).</summary>
    public const int MaxExtentsPerCall = 65536;

    private readonly Privcmd _privcmd;
    private readonly HypercallBuffer _args;
    private readonly Lock _lock = new();
    private HypercallBuffer? _extents;

    /// <summary>Creates the client with its own locked buffers.</summary>
    public MemoryOps(Privcmd privcmd)
    {
        _privcmd = privcmd;
        _args = privcmd.AllocateBuffer((nuint)Math.Max(sizeof(xen_pmem_map), sizeof(xen_memory_reservation)));
    }

    /// <summary>XENVER_version: (major, minor) of the running hypervisor.</summary>
    public (int Major, int Minor) Version()
    {
        long v = _privcmd.Hypercall(XenConstants.__HYPERVISOR_xen_version, XenConstants.XENVER_version, 0);
        if (v < 0)
            throw new XenException("xen_version(XENVER_version)", (int)-v);
        return ((int)(v >> 16), (int)(v & 0xFFFF));
    }

    /// <summary>
    /// XENMEM_maximum_gpfn: the highest guest frame the domain's p2m has ever had an entry for (an HVM
    /// domain's max_mapped_pfn, xen/arch/x86/mm.c domain_get_maximum_gpfn), or a negated errno.
    /// </summary>
    public long MaximumGpfn(ushort domid)
    {
        lock (_lock)
        {
            var m = _args.Cleared<xen_memory_domain>();
            m->domid = domid;
            return _privcmd.Hypercall(XenConstants.__HYPERVISOR_memory_op, MemoryConstants.XENMEM_maximum_gpfn, (ulong)m);
        }
    }

    /// <summary>
    /// The vNVDIMM series' XENMEM_populate_pmem_map under memory_op number <paramref name="op"/>:
    /// 0, a positive count of frames done, or a negated errno (-ENOSYS: not this hypervisor).
    /// </summary>
    public long PopulatePmemMap(uint op, ushort domid, ulong mfn, ulong gfn, uint count, uint type)
    {
        lock (_lock)
        {
            var m = _args.Cleared<xen_pmem_map>();
            *m = new xen_pmem_map { domid = domid, mfn = mfn, gfn = gfn, nr_mfns = count, type = type };
            return _privcmd.Hypercall(XenConstants.__HYPERVISOR_memory_op, op, (ulong)m);
        }
    }

    /// <summary>
    /// XENMEM_decrease_reservation of extents of 2^<paramref name="order"/> frames starting at each of
    /// <paramref name="gfns"/>: the number of extents removed, or a negated errno.
    /// </summary>
    public long DecreaseReservation(ushort domid, ReadOnlySpan<ulong> gfns, uint order)
    {
        if (gfns.Length > MaxExtentsPerCall)
            throw new ArgumentOutOfRangeException(nameof(gfns), "too many extents for one call");
        lock (_lock)
        {
            _extents ??= _privcmd.AllocateBuffer((nuint)(MaxExtentsPerCall * sizeof(ulong)));
            gfns.CopyTo(new Span<ulong>(_extents.Address, gfns.Length));
            var r = _args.Cleared<xen_memory_reservation>();
            *r = new xen_memory_reservation
            {
                extent_start = (ulong)_extents.Address,
                nr_extents = (ulong)gfns.Length,
                extent_order = order,
                mem_flags = 0,
                domid = domid,
            };
            return _privcmd.Hypercall(XenConstants.__HYPERVISOR_memory_op, MemoryConstants.XENMEM_decrease_reservation, (ulong)r);
        }
    }

    /// <inheritdoc/>
    /// <summary>
    /// XENMEM_populate_physmap of order-0 extents: gives the guest fresh RAM pages at
    /// <paramref name="gfns"/> (the DSM mailbox page). Returns the number populated or -errno.
    /// </summary>
    public long PopulatePhysmap(ushort domid, ReadOnlySpan<ulong> gfns)
    {
        if (gfns.Length > MaxExtentsPerCall)
            throw new ArgumentOutOfRangeException(nameof(gfns), "too many extents for one call");
        lock (_lock)
        {
            _extents ??= _privcmd.AllocateBuffer((nuint)(MaxExtentsPerCall * sizeof(ulong)));
            gfns.CopyTo(new Span<ulong>(_extents.Address, gfns.Length));
            var r = _args.Cleared<xen_memory_reservation>();
            *r = new xen_memory_reservation
            {
                extent_start = (ulong)_extents.Address,
                nr_extents = (ulong)gfns.Length,
                extent_order = 0,
                mem_flags = 0,
                domid = domid,
            };
            return _privcmd.Hypercall(XenConstants.__HYPERVISOR_memory_op, MemoryConstants.XENMEM_populate_physmap, (ulong)r);
        }
    }

    public void Dispose()
    {
        _extents?.Dispose();
        _args.Dispose();
    }
}
