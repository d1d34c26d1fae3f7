namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>
/// What a persisted simulated hypervisor keeps between processes (<see cref="SimPersistence"/>): every
/// domain's p2m, iomem permissions, RAM pages and ioreq servers. Counters, event channels and faults are
/// per process, like the hypercalls one companion made.
/// </summary>
/// <param name="NextServerId">The next ioreq server id to hand out.</param>
/// <param name="Domains">The domains.</param>
internal sealed record SimSnapshot(ushort NextServerId, IReadOnlyList<SimDomainSnapshot> Domains);

/// <summary>One simulated domain.</summary>
/// <param name="Domid">Domain id.</param>
/// <param name="Vcpus">Number of vCPUs.</param>
/// <param name="MaxGfn">Guest frame limit.</param>
/// <param name="RamPages">Size of its RAM file in pages.</param>
/// <param name="Ram">Populated RAM pages.</param>
/// <param name="P2m">The guest-physical map.</param>
/// <param name="Iomem">Machine frames the domain may have mapped.</param>
/// <param name="IoreqServers">Its ioreq servers (they belong to the domain, not to the process that made them).</param>
/// <param name="GuestRam">Guest RAM frames the toolstack populated (absent in older snapshots).</param>
internal sealed record SimDomainSnapshot(
    ushort Domid,
    int Vcpus,
    ulong MaxGfn,
    int RamPages,
    IReadOnlyList<SimRamPageSnapshot> Ram,
    IReadOnlyList<SimP2mSnapshot> P2m,
    IReadOnlyList<SimRangeSnapshot> Iomem,
    IReadOnlyList<SimIoreqServerSnapshot> IoreqServers,
    IReadOnlyList<SimRangeSnapshot>? GuestRam = null);

/// <summary>A populated RAM page: guest frame and page index in the RAM file.</summary>
/// <param name="Gfn">Guest frame.</param>
/// <param name="Page">Page index in the domain's RAM file.</param>
internal sealed record SimRamPageSnapshot(ulong Gfn, int Page);

/// <summary>One p2m range.</summary>
/// <param name="Gfn">First guest frame.</param>
/// <param name="Count">Frames.</param>
/// <param name="Mfn">Machine frame of the first guest frame.</param>
/// <param name="Type">Entry type.</param>
/// <param name="Cache">Cache attribute.</param>
internal sealed record SimP2mSnapshot(ulong Gfn, ulong Count, ulong Mfn, P2mType Type, CacheAttr Cache);

/// <summary>A frame range of a range set.</summary>
/// <param name="First">First frame.</param>
/// <param name="Count">Frames.</param>
internal sealed record SimRangeSnapshot(ulong First, ulong Count);

/// <summary>An ioreq server: id, state and ranges (its page and ports are made anew on load).</summary>
/// <param name="Id">Server id.</param>
/// <param name="Enabled">Whether requests are routed to it.</param>
/// <param name="Ranges">Inclusive ranges by XEN_DMOP_IO_RANGE_* type.</param>
internal sealed record SimIoreqServerSnapshot(ushort Id, bool Enabled, IReadOnlyList<SimIoRangeSnapshot> Ranges);

/// <summary>An inclusive ioreq server range.</summary>
/// <param name="Type">XEN_DMOP_IO_RANGE_* type.</param>
/// <param name="Start">First address or port.</param>
/// <param name="End">Last address or port.</param>
internal sealed record SimIoRangeSnapshot(uint Type, ulong Start, ulong End);
