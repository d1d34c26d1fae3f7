namespace XenVnvdimm.DeviceModel.Backing.Sysfs;

/// <summary>
/// A pmem namespace as the kernel's nd bus describes it, and the window of it that holds data:
/// for fsdax/devdax the part after the info block's dataoff, for raw the whole namespace.
/// </summary>
/// <param name="Name">Namespace device name, e.g. <c>namespace0.0</c>.</param>
/// <param name="Mode">raw, fsdax or devdax.</param>
/// <param name="Start">SPA of the namespace's first byte.</param>
/// <param name="Size">Namespace size in bytes.</param>
/// <param name="Region">Region device name, e.g. <c>region0</c>.</param>
/// <param name="RegionStart">SPA of the region.</param>
/// <param name="RegionSize">Region size.</param>
/// <param name="PersonalityDevice">The pfn/dax device that claims the namespace, if any (e.g. <c>pfn0.1</c>).</param>
/// <param name="DataStart">SPA of the first data byte (byte 0 of /dev/pmemX or /dev/daxX.Y).</param>
/// <param name="DataSize">Data bytes.</param>
/// <param name="Alignment">Mapping alignment in bytes.</param>
public sealed record NdNamespace(
    string Name, string Mode, ulong Start, ulong Size, string Region, ulong RegionStart, ulong RegionSize,
    string? PersonalityDevice, ulong DataStart, ulong DataSize, ulong Alignment)
{
    /// <summary>Namespace offset of the first data byte (the info block's dataoff, plus start_pad).</summary>
    public ulong DataOffset => DataStart - Start;

    /// <summary>Bytes unused at the end of the namespace (the info block's end_trunc).</summary>
    public ulong EndTruncation => Start + Size - (DataStart + DataSize);
}
