using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>
/// An in-process hypervisor that follows Xen 4.17's documented semantics for the operations the companion
/// uses. It sits below the ioctl seam (<see cref="SimPrivcmdDevice"/>, <see cref="SimEvtchnDevice"/>), so the
/// real marshalling code runs against it. It enforces Xen's preconditions (permission before mapping, no
/// overlapping p2m entries, frames within limits), counts hypercalls and injects failures.
/// </summary>
internal sealed partial class SimHypervisor : IDisposable
{
    private readonly Dictionary<ushort, SimDomain> _domains = [];
    private readonly Lock _domctlLock = new(); // Xen serialises domctls with its domctl lock
    private readonly SimRangeSet _pmemRegions = new();
    private ushort _nextServerId = 1; // server 0 is the default QEMU's

    /// <summary>Creates a hypervisor with <paramref name="options"/>.</summary>
    public SimHypervisor(SimHypervisorOptions? options = null)
    {
        Options = options ?? new SimHypervisorOptions();
        foreach (var (first, count) in Options.PmemRegions)
            _pmemRegions.Add(first, count);
        if (Options.PersistDirectory is string dir)
            Restore(dir);
    }

    /// <summary>The configuration.</summary>
    public SimHypervisorOptions Options { get; }

    /// <summary>Hypercall and ioctl counters.</summary>
    public SimCounters Counters { get; } = new();

    /// <summary>Failures to inject.</summary>
    public SimFaults Faults { get; } = new();

    /// <summary>Event channels.</summary>
    public SimEventChannels Events { get; } = new();

    /// <summary>Creates an HVM domain; with <paramref name="memoryMap"/>, with the RAM libxl would have populated.</summary>
    public SimDomain CreateDomain(ushort domid, int vcpus = 4, ulong maxGfn = 1UL << 36, int ramPages = 16, Layout.GuestMemoryMap? memoryMap = null)
    {
        string? ram = Options.PersistDirectory is string dir ? SimPersistence.RamFile(dir, domid) : null;
        if (ram is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(ram)!);
            File.Delete(ram); // a new domain starts with zeroed RAM
        }
        var d = new SimDomain(domid, vcpus, maxGfn, ramPages, ram);
        if (memoryMap is not null)
        {
            d.GuestRam.Add(0, memoryMap.LowRamEnd >> 12);
            if (memoryMap.HighRamEnd != 0)
                d.GuestRam.Add(1UL << 20, (memoryMap.HighRamEnd >> 12) - (1UL << 20));
        }
        lock (_domains)
            _domains.Add(domid, d);
        Persist();
        return d;
    }

    /// <summary>The domain <paramref name="domid"/>, or null.</summary>
    public SimDomain? Domain(ushort domid)
    {
        lock (_domains)
            return _domains.GetValueOrDefault(domid);
    }

    /// <summary>Opens a set of dom0 devices on this hypervisor (what XenDevices.OpenHost gives on Xen).</summary>
    public XenDevices OpenDevices() => new(new SimPrivcmdDevice(this), new SimEvtchnDevice(Events), new SimHypercallDevice());

    /// <summary>Creates a vCPU handle of <paramref name="domain"/>.</summary>
    public SimVcpu Vcpu(SimDomain domain, int index) => new(this, domain, index);

    /// <summary>
    /// IOCTL_PRIVCMD_HYPERCALL: runs the hypercall, re-entering it while it asks for a continuation
    /// (what Xen and the kernel do transparently), and returns its result.
    /// </summary>
    public long Hypercall(ref privcmd_hypercall call)
    {
        Counters.Add("hypercall");
        try
        {
            while (true)
            {
                long rc = Dispatch(ref call, out bool continuation);
                if (!continuation)
                    return rc;
                Counters.Add("continuation");
            }
        }
        finally
        {
            Persist();
        }
    }

    private unsafe long Dispatch(ref privcmd_hypercall call, out bool continuation)
    {
        continuation = false;
        switch (call.op)
        {
            case XenConstants.__HYPERVISOR_xen_version:
                Counters.Add("xen_version");
                return call.arg[0] == XenConstants.XENVER_version ? (Options.Version.Major << 16) | Options.Version.Minor : -XenConstants.XEN_ENOSYS;
            case XenConstants.__HYPERVISOR_domctl:
                return Domctl((xen_domctl*)call.arg[0]);
            case XenConstants.__HYPERVISOR_memory_op:
                return MemoryOp(ref call.arg[0], call.arg[1], out continuation);
            default:
                Counters.Add($"unknown:{call.op}");
                return -XenConstants.XEN_ENOSYS;
        }
    }

    /// <summary>The enabled ioreq server of <paramref name="domain"/> claiming an access, if any.</summary>
    public SimIoreqServer? RouteAccess(SimDomain domain, uint rangeType, ulong addr, uint size)
    {
        lock (domain.IoreqServers)
            return domain.IoreqServers.Values.FirstOrDefault(s => s.Claims(rangeType, addr, size));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_domains)
        {
            foreach (var d in _domains.Values)
                d.Dispose();
            _domains.Clear();
        }
    }
}
