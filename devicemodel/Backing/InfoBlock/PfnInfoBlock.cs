namespace XenVnvdimm.DeviceModel.Backing.InfoBlock;

/// <summary>Which personality an info block gives its namespace.</summary>
public enum InfoBlockKind
{
    /// <summary><c>NVDIMM_PFN_INFO</c>: fsdax (/dev/pmemX with struct pages).</summary>
    FsDax,

    /// <summary><c>NVDIMM_DAX_INFO</c>: devdax (/dev/daxX.Y).</summary>
    DevDax,
}

/// <summary>
/// A validated <c>struct nd_pfn_sb</c> (drivers/nvdimm/pfn.h), with the defaults the kernel applies
/// for older minor versions already filled in.
/// </summary>
/// <param name="Kind">fsdax or devdax.</param>
/// <param name="Uuid">The pfn/dax device's uuid.</param>
/// <param name="ParentUuid">The namespace's uuid.</param>
/// <param name="VersionMajor">Major version (1).</param>
/// <param name="VersionMinor">Minor version (0–4).</param>
/// <param name="DataOffset">Namespace offset of the first data byte; everything below is metadata.</param>
/// <param name="PageFrames">npfns: data pages covered by the memmap.</param>
/// <param name="MemmapLocation">Where struct pages live: 1 = RAM (--map=mem), 2 = PMEM (--map=dev).</param>
/// <param name="StartPad">Bytes skipped at the namespace start (always 0 for accepted blocks).</param>
/// <param name="EndTruncation">Bytes unused at the namespace end.</param>
/// <param name="Alignment">Mapping alignment in bytes.</param>
/// <param name="PageSize">Page size the memmap was laid out for.</param>
/// <param name="PageStructSize">sizeof(struct page) the memmap was laid out for.</param>
public sealed record PfnInfoBlock(
    InfoBlockKind Kind, Guid Uuid, Guid ParentUuid, ushort VersionMajor, ushort VersionMinor,
    ulong DataOffset, ulong PageFrames, uint MemmapLocation, uint StartPad, uint EndTruncation,
    ulong Alignment, uint PageSize, ushort PageStructSize)
{
    /// <summary>Namespace offset of the info block itself.</summary>
    public const int Offset = 4096;

    /// <summary>Size of the info block.</summary>
    public const int Size = 4096;

    /// <summary>Usable data bytes of a namespace of <paramref name="namespaceSize"/> bytes.</summary>
    public ulong DataSize(ulong namespaceSize) => namespaceSize - DataOffset - StartPad - EndTruncation;
}
