using XenVnvdimm.DeviceModel.Backing;
using XenVnvdimm.DeviceModel.Backing.Sysfs;
using XenVnvdimm.Tests.Backing.Support;
using Xunit;

namespace XenVnvdimm.Tests.Backing;

/// <summary>
/// Namespace math on synthetic sysfs trees shaped like the kernel's. The numbers are the ones a QEMU
/// guest's kernel reported for its namespaces (fsdax: namespace0.0 at 0x100000000, pfn0.0 data at
/// 0x100600000; devdax: namespace1.0 at 0x110000000, dax1.0 data at 0x110400000).
/// </summary>
public sealed class SysfsTopologyTests : IDisposable
{
    private const string Bus = SyntheticSysfs.Bus;
    private readonly SyntheticSysfs _sys = new();
    private SysfsTree Tree => new(_sys.Root);

    private void Attr(string dir, string name, string value) => _sys.Attr(dir, name, value);
    private void Region(string name, string start, string size) => _sys.Region(name, start, size);
    private void FsdaxPmem0(bool partition) => _sys.FsdaxPmem0("259:0", partition ? "259:1" : null);

    [Fact]
    public void FsdaxDiskStartsAtThePfnDataOffset()
    {
        FsdaxPmem0(partition: false);
        var dev = BlockDevice.Read(Tree, 259, 0);
        var ns = Assert.IsType<NdNamespace>(dev.Namespace);
        Assert.Equal(("namespace0.0", "fsdax", "pfn0.0", "region0"), (ns.Name, ns.Mode, ns.PersonalityDevice, ns.Region));
        Assert.Equal(0x600000UL, ns.DataOffset);
        Assert.Equal(0x200000UL, ns.Alignment);
        Assert.Equal(0UL, ns.EndTruncation);
        Assert.Equal(262144000UL, dev.DiskSize);
        var spa = SpaMap.ForNamespace(ns);
        Assert.Equal(0x100600000UL, new ResolvedRun(0, 0x1000, 0x1000).Spa(spa.DeviceSpaBase) - 0x1000);
        Assert.Equal(0x100000000UL, spa.MetadataStart);
    }

    [Fact]
    public void PartitionOffsetIsAddedToTheNamespaceData()
    {
        FsdaxPmem0(partition: true);
        var dev = BlockDevice.Read(Tree, 259, 1);
        Assert.Equal(("pmem0p1", "pmem0"), (dev.Name, dev.Disk));
        Assert.Equal(4096UL * 512, dev.PartitionStart);
        Assert.Equal(507904UL * 512, dev.Size);
        var spa = SpaMap.ForNamespace(dev.Namespace!);
        // File block at filesystem byte 0x3000 lives at pfn data start + partition start + 0x3000.
        var run = new ResolvedRun(0, dev.PartitionStart + 0x3000, 0x1000);
        Assert.Equal(0x100600000UL + 0x200000 + 0x3000, run.Spa(spa.DeviceSpaBase));
        Assert.Equal((0x100600000UL + 0x200000 + 0x3000) >> 12, run.ToFrameRun(spa.DeviceSpaBase).Mfn);
    }

    [Fact]
    public void RawNamespaceIsItsOwnDataWindow()
    {
        _sys.RawPmem2("259:4", 1UL << 30);
        var dev = BlockDevice.Read(Tree, 259, 4);
        Assert.Equal("raw", dev.Namespace!.Mode);
        Assert.Equal(0UL, dev.Namespace.DataOffset);
        var spa = SpaMap.ForNamespace(dev.Namespace);
        Assert.Null(spa.Check(new ResolvedRun(0, 0, 1UL << 30)));
        var outside = spa.Check(new ResolvedRun(0x1000, (1UL << 30) - 0x1000, 0x2000));
        Assert.Equal(RefusalReason.OutsideNamespace, outside!.Reason);
        Assert.Equal((0x1000UL, 0x3000UL), (outside.Start, outside.End));
    }

    [Fact]
    public void DevdaxDeviceResolvesToItsNamespace()
    {
        _sys.Dax10();
        string nd = $"{Bus}/region1/dax1.0";
        var ns = NdTopology.FromDaxDevice(Path.Combine(_sys.Root, nd, "dax1.0"))!;
        Assert.Equal(("namespace1.0", "devdax"), (ns.Name, ns.Mode));
        Assert.Equal(0x400000UL, ns.DataOffset);
        Assert.Equal(0x110400000UL, SpaMap.ForNamespace(ns).DeviceSpaBase);

        // A dax device resized below its nd_dax data (dynamic dax) is refused.
        Attr($"{nd}/dax1.0", "size", "2097152");
        Assert.Throws<InvalidDataException>(() => NdTopology.FromDaxDevice(Path.Combine(_sys.Root, nd, "dax1.0")));
    }

    [Fact]
    public void InconsistentTreesAndSectorModeAreRefused()
    {
        FsdaxPmem0(partition: false);
        // pfn data reaching past the namespace end.
        Attr($"{Bus}/region0/pfn0.0", "size", "268435456");
        Assert.Throws<InvalidDataException>(() => BlockDevice.Read(Tree, 259, 0));
        // dataoff that would expose the info block.
        Attr($"{Bus}/region0/pfn0.0", "size", "262144000");
        Attr($"{Bus}/region0/pfn0.0", "resource", "0x100001000");
        Assert.Contains("info block", Assert.Throws<InvalidDataException>(() => BlockDevice.Read(Tree, 259, 0)).Message, StringComparison.Ordinal);
        var btt = NdTopologyFromName("btt0.1");
        Assert.Contains("BTT", btt.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RangesBelowDataoffAreRefusedAsMetadata()
    {
        var map = new SpaMap(DeviceSpaBase: 0x100000000, WindowStart: 0x100600000, WindowEnd: 0x110000000, MetadataStart: 0x100000000);
        var refusal = map.Check(new ResolvedRun(0, 0x1000, 0x1000));
        Assert.Equal(RefusalReason.Metadata, refusal!.Reason);
        Assert.Null(map.Check(new ResolvedRun(0, 0x600000, 0x1000)));
    }

    private InvalidDataException NdTopologyFromName(string name)
    {
        string dir = Path.Combine(_sys.Root, Bus, "region0", name);
        Directory.CreateDirectory(dir);
        return Assert.Throws<InvalidDataException>(() => NdTopology.FromDiskDevice(dir));
    }

    public void Dispose() => _sys.Dispose();
}
