using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>The hypervisor side of one ioreq server: its ranges, state, ioreq page and per-vCPU ports.</summary>
internal sealed unsafe class SimIoreqServer : IDisposable
{
    private readonly List<(uint Type, ulong Start, ulong End)> _ranges = [];
    private readonly Lock _lock = new();
    private int _users;
    private volatile bool _destroyed;

    /// <summary>Creates server <paramref name="id"/> of <paramref name="domain"/> with one slot and port per vCPU.</summary>
    public SimIoreqServer(SimDomain domain, ushort id, SimEventChannels events)
    {
        Domain = domain;
        Id = id;
        int pages = (domain.Vcpus * sizeof(ioreq_t) + 4095) / 4096;
        Page = new SimSharedMemory($"ioreq-d{domain.Domid}-s{id}", pages);
        Wake = new SemaphoreSlim[domain.Vcpus];
        Ports = new uint[domain.Vcpus];
        for (int v = 0; v < domain.Vcpus; v++)
        {
            var wake = Wake[v] = new SemaphoreSlim(0);
            Ports[v] = events.AllocXenPort(domain.Domid, () => wake.Release());
            Slot(v).vp_eport = Ports[v];
        }
    }

    /// <summary>Owning domain.</summary>
    public SimDomain Domain { get; }

    /// <summary>Server id.</summary>
    public ushort Id { get; }

    /// <summary>Whether requests are routed to it.</summary>
    public bool Enabled { get; set; }

    /// <summary>The synchronous ioreq page(s).</summary>
    public SimSharedMemory Page { get; }

    /// <summary>Signalled when dom0 notifies vCPU n's port.</summary>
    public SemaphoreSlim[] Wake { get; }

    /// <summary>vp_eport of each vCPU.</summary>
    public uint[] Ports { get; }

    /// <summary>vCPU n's ioreq slot.</summary>
    public ref ioreq_t Slot(int vcpu) => ref ((ioreq_t*)Page.Address)[vcpu];

    /// <summary>A copy of the server's inclusive ranges.</summary>
    public IReadOnlyList<(uint Type, ulong Start, ulong End)> Ranges
    {
        get
        {
            lock (_lock)
                return [.. _ranges];
        }
    }

    /// <summary>Adds an inclusive range: 0 or a negated errno.</summary>
    public int AddRange(uint type, ulong start, ulong end)
    {
        if (start > end || type > DmOpConstants.XEN_DMOP_IO_RANGE_PCI)
            return -22;
        lock (_lock)
        {
            if (_ranges.Any(r => r.Type == type && r.Start <= end && start <= r.End))
                return -17; // EEXIST, as Xen's rangeset_add_range refuses overlaps
            _ranges.Add((type, start, end));
        }
        return 0;
    }

    /// <summary>Removes an exact range: 0 or -ENOENT.</summary>
    public int RemoveRange(uint type, ulong start, ulong end)
    {
        lock (_lock)
            return _ranges.Remove((type, start, end)) ? 0 : -2;
    }

    /// <summary>True when the access [addr, addr + size) lies entirely in one of the server's ranges.</summary>
    public bool Claims(uint type, ulong addr, uint size)
    {
        lock (_lock)
            return Enabled && _ranges.Any(r => r.Type == type && r.Start <= addr && addr + size - 1 <= r.End);
    }

    /// <summary>Destroyed: a vCPU waiting on it gives up, as Xen completes a destroyed server's pending requests itself.</summary>
    public bool Destroyed => _destroyed;

    /// <summary>A vCPU starts using the server's page; false once it is destroyed. Pair with <see cref="Leave"/>.</summary>
    public bool TryEnter()
    {
        lock (_lock)
        {
            if (_destroyed)
                return false;
            _users++;
            return true;
        }
    }

    /// <summary>A vCPU is done with the server's page.</summary>
    public void Leave()
    {
        lock (_lock)
            _users--;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_lock)
            _destroyed = true;
        // Wake every waiting vCPU, then free the page only once none of them can still touch it.
        foreach (var w in Wake)
            w.Release();
        var spin = new SpinWait();
        while (Volatile.Read(ref _users) > 0)
            spin.SpinOnce();
        Page.Dispose();
        foreach (var w in Wake)
            w.Dispose();
    }
}
