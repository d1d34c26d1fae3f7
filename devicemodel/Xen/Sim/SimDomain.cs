namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>
/// A simulated HVM guest: its p2m, iomem permissions, ioreq servers, interrupt lines, a few RAM pages
/// (e.g. the DSM mailbox) and vCPUs that make port and MMIO accesses.
/// </summary>
internal sealed class SimDomain : IDisposable
{
    /// <summary>Machine frame the simulator gives the first guest RAM page (far above test pmem frames).</summary>
    public const ulong RamMfnBase = 0x3_0000_0000;

    private readonly SimSharedMemory _ram;
    private readonly Dictionary<ulong, int> _ramPageOfGfn = [];

    /// <summary>Creates domain <paramref name="domid"/>; its RAM lives in <paramref name="ramFile"/> when given.</summary>
    public SimDomain(ushort domid, int vcpus, ulong maxGfn, int ramPages, string? ramFile = null)
    {
        Domid = domid;
        Vcpus = vcpus;
        MaxGfn = maxGfn;
        _ram = new SimSharedMemory($"ram-d{domid}", ramPages, ramFile);
    }

    /// <summary>Domain id.</summary>
    public ushort Domid { get; }

    /// <summary>Number of vCPUs.</summary>
    public int Vcpus { get; }

    /// <summary>Guest frames must be below this (the p2m's limit).</summary>
    public ulong MaxGfn { get; }

    /// <summary>The guest-physical map.</summary>
    public SimP2m P2m { get; } = new();

    /// <summary>
    /// Guest RAM the toolstack populated when it built the domain (libxl's low and high RAM), as guest
    /// frames only: no pages back it here. XENMEM_maximum_gpfn and getpageframeinfo3 see it.
    /// </summary>
    public SimRangeSet GuestRam { get; } = new();

    /// <summary>Machine frames this domain may have mapped (XEN_DOMCTL_iomem_permission).</summary>
    public SimRangeSet Iomem { get; } = new();

    /// <summary>Ioreq servers by id.</summary>
    public Dictionary<ushort, SimIoreqServer> IoreqServers { get; } = [];

    /// <summary>Current level of each ISA IRQ line.</summary>
    public bool[] IsaIrqLevel { get; } = new bool[16];

    /// <summary>Rising edges seen on each ISA IRQ line.</summary>
    public int[] IsaIrqEdges { get; } = new int[16];

    /// <summary>Populates a RAM page at <paramref name="gfn"/> (like XENMEM_populate_physmap of one page).</summary>
    public void AddRamPage(ulong gfn)
    {
        // The lowest free page, so a page given back (decrease_reservation) is reused.
        int index = Enumerable.Range(0, _ram.Pages).FirstOrDefault(i => !_ramPageOfGfn.ContainsValue(i), -1);
        if (index < 0)
            throw new InvalidOperationException("simulated domain has no RAM page left");
        P2m.Map(gfn, RamMfnBase + (ulong)index, 1, P2mType.Ram, CacheAttr.WriteBack);
        _ramPageOfGfn[gfn] = index;
    }

    /// <summary>
    /// Gives the RAM page at <paramref name="gfn"/> back (XENMEM_decrease_reservation of one page):
    /// out of the p2m and scrubbed, as Xen scrubs freed pages before reusing them.
    /// </summary>
    public bool RemoveRamPage(ulong gfn)
    {
        if (!_ramPageOfGfn.Remove(gfn, out int index))
            return false;
        P2m.Unmap(gfn, 1);
        RamPageAt(index).Clear();
        return true;
    }

    /// <summary>Re-enters a RAM page a persisted domain had (its p2m entry is restored separately).</summary>
    public void RestoreRamPage(ulong gfn, int page)
    {
        if (page < 0 || page >= _ram.Pages)
            throw new InvalidOperationException($"persisted RAM page {page} is outside the domain's {_ram.Pages} pages");
        _ramPageOfGfn[gfn] = page;
    }

    /// <summary>Guest frame → RAM page index of every populated RAM page.</summary>
    public IReadOnlyDictionary<ulong, int> RamPages => _ramPageOfGfn;

    /// <summary>The RAM page behind <paramref name="gfn"/>, if it is one.</summary>
    public bool TryGetRamPage(ulong gfn, out int page) => _ramPageOfGfn.TryGetValue(gfn, out page);

    /// <summary>The guest's own view of its RAM pages.</summary>
    public SimSharedMemory Ram => _ram;

    /// <summary>The guest's view of RAM page <paramref name="gfn"/>.</summary>
    public Span<byte> RamPage(ulong gfn) => RamPageAt(_ramPageOfGfn[gfn]);

    private unsafe Span<byte> RamPageAt(int index) => new(_ram.Address + (long)index * 4096, 4096);

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var s in IoreqServers.Values)
            s.Dispose();
        IoreqServers.Clear();
        _ram.Dispose();
    }
}
