namespace XenVnvdimm.Tests.Backing.Support;

/// <summary>
/// A sysfs tree in a temporary directory, shaped like the kernel's nd bus. The numbers used by the
/// tests are the ones a QEMU guest's kernel reported for its namespaces (fsdax: namespace0.0 at
/// 0x100000000, pfn0.0 data at 0x100600000; devdax: namespace1.0 at 0x110000000, dax1.0 at 0x110400000).
/// </summary>
internal sealed class SyntheticSysfs : IDisposable
{
    public const string Bus = "devices/platform/ACPI0012:00/ndbus0";

    public string Root { get; } = Directory.CreateTempSubdirectory("xvn-sysfs-").FullName;

    public void Attr(string dir, string name, string value)
    {
        Directory.CreateDirectory(Path.Combine(Root, dir));
        File.WriteAllText(Path.Combine(Root, dir, name), value + "\n");
    }

    public void Link(string at, string target)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(Root, at))!);
        File.CreateSymbolicLink(Path.Combine(Root, at), target);
    }

    public void Region(string name, string start, string size)
    {
        Attr($"{Bus}/{name}", "resource", start);
        Attr($"{Bus}/{name}", "size", size);
    }

    /// <summary>fsdax pmem0 (pfn0.0 over namespace0.0) as block device <paramref name="dev"/>, optionally with pmem0p1 at sector 4096 as <paramref name="partDev"/>.</summary>
    public void FsdaxPmem0(string dev = "259:0", string? partDev = null)
    {
        Region("region0", "0x100000000", "268435456");
        Attr($"{Bus}/region0/namespace0.0", "resource", "0x100000000");
        Attr($"{Bus}/region0/namespace0.0", "size", "268435456");
        Attr($"{Bus}/region0/namespace0.0", "mode", "fsdax");
        string pfn = $"{Bus}/region0/pfn0.0";
        Attr(pfn, "resource", "0x100600000");
        Attr(pfn, "size", "262144000");
        Attr(pfn, "align", "2097152");
        Attr(pfn, "namespace", "namespace0.0");
        Attr($"{pfn}/block/pmem0", "size", "512000");
        Link($"{pfn}/block/pmem0/device", "../../../pfn0.0");
        Link($"dev/block/{dev}", $"../../{pfn}/block/pmem0");
        if (partDev is not null)
        {
            Attr($"{pfn}/block/pmem0/pmem0p1", "partition", "1");
            Attr($"{pfn}/block/pmem0/pmem0p1", "start", "4096");
            Attr($"{pfn}/block/pmem0/pmem0p1", "size", "507904");
            Link($"dev/block/{partDev}", $"../../{pfn}/block/pmem0/pmem0p1");
        }
    }

    /// <summary>A raw 64 MiB namespace2.0 at 0x200000000 as block device pmem2 <paramref name="dev"/>.</summary>
    public void RawPmem2(string dev = "259:4", ulong size = 64UL << 20)
    {
        Region("region2", "0x200000000", size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        string ns = $"{Bus}/region2/namespace2.0";
        Attr(ns, "resource", "0x200000000");
        Attr(ns, "size", size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Attr($"{ns}/block/pmem2", "size", (size / 512).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Link($"{ns}/block/pmem2/device", "../../../namespace2.0");
        Link($"dev/block/{dev}", $"../../{ns}/block/pmem2");
    }

    /// <summary>devdax dax1.0 over namespace1.0, as character device <paramref name="dev"/>; returns the dax device directory.</summary>
    public string Dax10(string dev = "252:0")
    {
        Region("region1", "0x110000000", "134217728");
        Attr($"{Bus}/region1/namespace1.0", "resource", "0x110000000");
        Attr($"{Bus}/region1/namespace1.0", "size", "134217728");
        string nd = $"{Bus}/region1/dax1.0";
        Attr(nd, "resource", "0x110400000");
        Attr(nd, "size", "130023424");
        Attr(nd, "align", "2097152");
        Attr(nd, "namespace", "namespace1.0");
        Attr($"{nd}/dax1.0", "resource", "0x110400000");
        Attr($"{nd}/dax1.0", "size", "130023424");
        Attr($"{nd}/dax1.0", "align", "2097152");
        Link($"dev/char/{dev}", $"../../{nd}/dax1.0");
        return Path.Combine(Root, nd, "dax1.0");
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
