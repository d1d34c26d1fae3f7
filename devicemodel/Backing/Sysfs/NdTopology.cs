namespace XenVnvdimm.DeviceModel.Backing.Sysfs;

/// <summary>
/// Walks the nd bus in sysfs from a pmem disk or a dax device to its namespace and region, and
/// checks that the pieces fit inside each other.
/// </summary>
public static class NdTopology
{
    private const ulong Page = 4096;

    /// <summary>
    /// The namespace behind a pmem disk, given the resolved target of <c>/sys/block/pmemX/device</c>
    /// (a <c>pfnX.Y</c> for fsdax, a <c>namespaceX.Y</c> for raw, a <c>bttX.Y</c> for sector mode).
    /// Returns null when the device is not on the nd bus.
    /// </summary>
    /// <exception cref="InvalidDataException">The tree is inconsistent or in sector mode.</exception>
    public static NdNamespace? FromDiskDevice(string deviceDir)
    {
        string name = Path.GetFileName(deviceDir);
        if (name.StartsWith("btt", StringComparison.Ordinal))
            throw new InvalidDataException($"{name}: namespace is in sector (BTT) mode, whose blocks are remapped: it cannot back a vNVDIMM");
        if (name.StartsWith("pfn", StringComparison.Ordinal))
            return FromPersonality(deviceDir, "fsdax");
        if (name.StartsWith("namespace", StringComparison.Ordinal))
        {
            var (ns, size, region, regionStart, regionSize) = ReadNamespace(deviceDir);
            return Checked(new NdNamespace(name, "raw", ns, size, region, regionStart, regionSize, null, ns, size, Page));
        }
        return null;
    }

    /// <summary>
    /// The namespace behind a device-dax instance, given the resolved <c>/sys/dev/char/M:m</c>
    /// directory (e.g. <c>…/region0/dax0.1/dax0.0</c>). Returns null when not on the nd bus.
    /// </summary>
    public static NdNamespace? FromDaxDevice(string daxDir)
    {
        string parent = Path.GetDirectoryName(daxDir)!;
        if (!File.Exists(Path.Combine(parent, "namespace")))
            return null; // a dax device not made from a pmem namespace (e.g. hmem)
        var ns = FromPersonality(parent, "devdax");
        // Dynamic dax devices may be resized or split; only a device covering its whole nd_dax data is accepted.
        ulong start = SysfsTree.ReadNumber(Path.Combine(daxDir, "resource"));
        ulong size = SysfsTree.ReadNumber(Path.Combine(daxDir, "size"));
        if (start != ns.DataStart || size != ns.DataSize)
            throw new InvalidDataException($"{Path.GetFileName(daxDir)}: range 0x{start:x}+0x{size:x} differs from {ns.PersonalityDevice}'s data 0x{ns.DataStart:x}+0x{ns.DataSize:x}");
        return ns;
    }

    private static NdNamespace FromPersonality(string dir, string mode)
    {
        string device = Path.GetFileName(dir);
        string nsName = SysfsTree.ReadText(Path.Combine(dir, "namespace"))
            ?? throw new InvalidDataException($"{device}: no namespace attribute");
        if (nsName.Length == 0)
            throw new InvalidDataException($"{device}: not attached to a namespace");
        string nsDir = Path.Combine(Path.GetDirectoryName(dir)!, nsName);
        var (start, size, region, regionStart, regionSize) = ReadNamespace(nsDir);
        ulong dataStart = SysfsTree.ReadNumber(Path.Combine(dir, "resource"));
        ulong dataSize = SysfsTree.ReadNumber(Path.Combine(dir, "size"));
        ulong align = SysfsTree.ReadNumberOrNull(Path.Combine(dir, "align")) ?? Page;
        return Checked(new NdNamespace(nsName, mode, start, size, region, regionStart, regionSize, device, dataStart, dataSize, align));
    }

    private static (ulong Start, ulong Size, string Region, ulong RegionStart, ulong RegionSize) ReadNamespace(string nsDir)
    {
        string regionDir = Path.GetDirectoryName(nsDir)!;
        return (SysfsTree.ReadNumber(Path.Combine(nsDir, "resource")),
                SysfsTree.ReadNumber(Path.Combine(nsDir, "size")),
                Path.GetFileName(regionDir),
                SysfsTree.ReadNumber(Path.Combine(regionDir, "resource")),
                SysfsTree.ReadNumber(Path.Combine(regionDir, "size")));
    }

    private static NdNamespace Checked(NdNamespace ns)
    {
        if (ns.Start < ns.RegionStart || ns.Start + ns.Size > ns.RegionStart + ns.RegionSize)
            throw new InvalidDataException($"{ns.Name} [0x{ns.Start:x}, 0x{ns.Start + ns.Size:x}) is not inside {ns.Region} [0x{ns.RegionStart:x}, 0x{ns.RegionStart + ns.RegionSize:x})");
        if (ns.DataStart < ns.Start || ns.DataStart + ns.DataSize > ns.Start + ns.Size)
            throw new InvalidDataException($"{ns.PersonalityDevice ?? ns.Name} data [0x{ns.DataStart:x}, 0x{ns.DataStart + ns.DataSize:x}) is not inside {ns.Name} [0x{ns.Start:x}, 0x{ns.Start + ns.Size:x})");
        if (ns.Mode != "raw" && ns.DataOffset < 2 * Page)
            throw new InvalidDataException($"{ns.PersonalityDevice}: dataoff 0x{ns.DataOffset:x} would expose the info block at namespace offset 0x1000");
        if (ns.DataStart % Page != 0 || ns.DataSize % Page != 0)
            throw new InvalidDataException($"{ns.Name}: data range is not 4 KiB aligned");
        return ns;
    }
}
