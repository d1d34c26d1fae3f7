namespace XenVnvdimm.DeviceModel.Backing.HostScan;

/// <summary>A host physical address range that some source says is persistent memory.</summary>
/// <param name="Source">NFIT, E820 or nd.</param>
/// <param name="Name">What the source calls it (SPA range index, memmap entry, region name).</param>
/// <param name="Start">First byte.</param>
/// <param name="Length">Length in bytes.</param>
public sealed record PmemRange(string Source, string Name, ulong Start, ulong Length)
{
    /// <summary>One past the last byte.</summary>
    public ulong End => Start + Length;

    /// <summary>True when <paramref name="other"/> lies inside this range.</summary>
    public bool Contains(PmemRange other) => other.Start >= Start && other.End <= End;
}
