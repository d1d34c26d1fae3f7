using XenVnvdimm.DeviceModel;
using XenVnvdimm.DeviceModel.Backing.HostScan;
using XenVnvdimm.DeviceModel.Backing.Sysfs;
using XenVnvdimm.DeviceModel.Memory;
using Xunit;

namespace XenVnvdimm.Tests.Backing;

/// <summary>
/// HostPmem.EnsureContains over a sysfs tree written in the kernel's formats (firmware/memmap entries
/// with inclusive ends, nd regions): a run wholly inside one pmem range passes, any frame outside is
/// refused naming the run and every range found.
/// </summary>
public sealed class HostPmemTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("xvn-hostpmem-").FullName;

    private void Memmap(int index, ulong start, ulong endInclusive, string type)
    {
        string dir = Path.Combine(_root, "firmware", "memmap", index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "start"), $"0x{start:x}\n");
        File.WriteAllText(Path.Combine(dir, "end"), $"0x{endInclusive:x}\n");
        File.WriteAllText(Path.Combine(dir, "type"), type + "\n");
    }

    private void Region(string name, ulong start, ulong size)
    {
        string dir = Path.Combine(_root, "bus", "nd", "devices", name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "resource"), $"0x{start:x}\n");
        File.WriteAllText(Path.Combine(dir, "size"), $"{size}\n");
    }

    private void Check(params FrameRun[] runs) => HostPmem.EnsureContains(new SysfsTree(_root), runs);

    [Fact]
    public void RunsInsideAnE820PmemEntryOrAnNdRegionPassAndRamIsRefused()
    {
        Memmap(0, 0, 0x9fbff, "System RAM");
        Memmap(1, 0x100000, 0xbfffffff, "System RAM");
        Memmap(2, 0x100000000, 0x11fffffff, "Persistent Memory");
        Region("region1", 0x200000000, 64UL << 20);

        Check(new FrameRun(0, 0x100000, 0x20000), new FrameRun(0x20000, 0x200000, 0x4000));

        var ram = Assert.Throws<UserErrorException>(() => Check(new FrameRun(0x10, 0x1000, 0x10)));
        Assert.Equal("machine frames 0x1000000-0x100ffff (guest frame 0x10, 16 frames) are not inside host persistent memory; " +
            "host pmem ranges: E820 memmap2 (Persistent Memory) 0x100000000-0x11fffffff, nd region1 0x200000000-0x203ffffff", ram.Message);

        // One frame past the end of the entry is enough to refuse.
        var past = Assert.Throws<UserErrorException>(() => Check(new FrameRun(0, 0x100000, 0x20001)));
        Assert.StartsWith("machine frames 0x100000000-0x120000fff ", past.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AHostWithoutPmemRefusesNamingWhereItLooked()
    {
        Memmap(0, 0x100000, 0xbfffffff, "System RAM");
        var e = Assert.Throws<UserErrorException>(() => Check(new FrameRun(0, 0x100000, 1)));
        Assert.Contains("no persistent memory found", e.Message, StringComparison.Ordinal);
        Assert.Contains("E820: no 'Persistent Memory' entry", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
