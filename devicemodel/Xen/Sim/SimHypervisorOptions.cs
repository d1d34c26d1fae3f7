namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>What kind of Xen the simulator pretends to be.</summary>
internal sealed class SimHypervisorOptions
{
    /// <summary>Version reported by XENVER_version.</summary>
    public (int Major, int Minor) Version { get; init; } = (4, 17);

    /// <summary>memory_op number of XENMEM_populate_pmem_map when the simulated Xen has the vNVDIMM series; null: -ENOSYS.</summary>
    public uint? PmemOp { get; init; }

    /// <summary>The only DOMCTL interface version accepted (others get -EACCES).</summary>
    public uint DomctlInterfaceVersion { get; init; } = 0x15;

    /// <summary>Host physical address bits: machine frames must lie below 2^(bits-12).</summary>
    public int PaddrBits { get; init; } = 46;

    /// <summary>HAP supports 2 MiB pages (mmio_order may use them).</summary>
    public bool Hap2M { get; init; } = true;

    /// <summary>Arm-like limit: memory_mapping of more frames than this fails with -E2BIG; null: x86 (partial counts).</summary>
    public ulong? MaxMappingFramesPerCall { get; init; }

    /// <summary>
    /// Directory where the hypervisor's domains are kept across processes (see <see cref="SimPersistence"/>);
    /// null keeps them in memory only.
    /// </summary>
    public string? PersistDirectory { get; init; }

    /// <summary>Host frames registered with Xen as pmem (what populate_pmem_map accepts).</summary>
    public IReadOnlyList<(ulong First, ulong Count)> PmemRegions { get; init; } = [];
}
