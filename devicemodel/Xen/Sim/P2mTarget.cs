namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>p2m entry types the simulator distinguishes (after Xen's p2m_type_t).</summary>
internal enum P2mType
{
    /// <summary>Ordinary guest RAM.</summary>
    Ram,

    /// <summary>p2m_mmio_direct: what XEN_DOMCTL_memory_mapping creates.</summary>
    MmioDirect,

    /// <summary>Host pmem populated by XENMEM_populate_pmem_map.</summary>
    Pmem,
}

/// <summary>Cache attribute of a p2m entry.</summary>
internal enum CacheAttr
{
    /// <summary>Write-back (cacheable).</summary>
    WriteBack,

    /// <summary>Uncached: Xen's choice for p2m_mmio_direct frames it does not manage.</summary>
    Uncached,
}

/// <summary>Mapping target of a p2m range: machine frame of its first guest frame, type and cache attribute.</summary>
internal readonly record struct P2mTarget(ulong Mfn, P2mType Type, CacheAttr Cache);
