using System.Globalization;
using XenVnvdimm.DeviceModel.Backing;
using XenVnvdimm.DeviceModel.Backing.Sysfs;
using XenVnvdimm.Tests.Backing.Support;
using Xunit;

namespace XenVnvdimm.Tests.Backing;

/// <summary>
/// Whole-device backings: a real device node (a loop device, /dev/null standing in for a dax
/// character device) opened by the resolver, with sysfs replaced by a tree shaped like the kernel's.
/// </summary>
[Collection(GuestNamespacesCollection.Name)]
public sealed class DeviceBackingTests : IDisposable
{
    private readonly GuestNamespaces _guest;
    private readonly SyntheticSysfs _sys = new();
    private readonly string _work = Directory.CreateTempSubdirectory("xvn-devbacking-").FullName;
    private string? _loop;

    public DeviceBackingTests(GuestNamespaces guest) => _guest = guest;

    private (string Node, string MajorMinor) Loop(string image)
    {
        _loop = Shell.Run("losetup", "--find", "--show", image).Trim();
        string name = Path.GetFileName(_loop);
        return (_loop, File.ReadAllText($"/sys/class/block/{name}/dev").Trim());
    }

    private string MountInfo(params string[] lines)
    {
        string path = Path.Combine(_work, "mountinfo");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void DaxDeviceIsOneRunAtItsResource()
    {
        // /dev/null is character device 1:3; the synthetic tree says 1:3 is dax1.0.
        _sys.Dax10("1:3");
        using var r = BackingResolver.Resolve("/dev/null", new BackingOptions { Sysfs = new SysfsTree(_sys.Root), MountInfoPath = MountInfo() });
        Assert.Equal(BackingKind.DaxDevice, r.Kind);
        Assert.True(r.Accepted, string.Join("; ", r.Refusals));
        var run = Assert.Single(r.FrameRuns());
        Assert.Equal((0UL, 0x110400000UL >> 12, 130023424UL >> 12), (run.Gfn, run.Mfn, run.Count));
        Assert.Equal(0x200000UL, r.Alignment);
    }

    [Fact]
    public void PmemPartitionIsOneRunAndRefusedWhileMounted()
    {
        string image = Path.Combine(_work, "disk");
        using (var f = File.Create(image))
            f.SetLength(8L << 20);
        var (node, mm) = Loop(image);
        _sys.FsdaxPmem0("259:0", partDev: mm); // the loop device plays pmem0p1
        var options = new BackingOptions { Sysfs = new SysfsTree(_sys.Root), MountInfoPath = MountInfo() };
        using (var r = BackingResolver.Resolve(node, options))
        {
            Assert.True(r.Accepted, string.Join("; ", r.Refusals));
            var run = Assert.Single(r.Runs);
            Assert.Equal((0UL, 4096UL * 512, 507904UL * 512), (run.FileOffset, run.DeviceOffset, run.Length));
            Assert.Equal(0x100600000UL + 4096 * 512, run.Spa(r.Spa!.DeviceSpaBase));
        }
        string mounted = $"36 25 {mm} / /mnt/pmem rw,relatime shared:1 - ext4 /dev/pmem0p1 rw,dax=always";
        using (var r = BackingResolver.Resolve(node, options with { MountInfoPath = MountInfo(mounted) }))
        {
            var refusal = Assert.Single(r.Refusals);
            Assert.Equal(RefusalReason.InUse, refusal.Reason);
            Assert.Contains("/mnt/pmem", refusal.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void RawNamespaceHoldingAKernelInfoBlockKeepsItsMetadataOut()
    {
        // A raw namespace whose first 8 KiB are the guest kernel's fsdax info block (dataoff 6 MiB).
        string image = Path.Combine(_work, "raw");
        var head = new byte[8192];
        using (var src = File.OpenRead(_guest.Image))
        {
            src.Position = (long)_guest.NamespaceOffset("namespace0.1");
            src.ReadExactly(head);
        }
        using (var f = File.Create(image))
        {
            f.Write(head);
            f.SetLength(64L << 20);
        }
        var (node, mm) = Loop(image);
        _sys.RawPmem2(mm);
        string devDir = Path.Combine(_work, "dev");
        Directory.CreateDirectory(devDir);
        File.CreateSymbolicLink(Path.Combine(devDir, "pmem2"), node);
        using var r = BackingResolver.Resolve(node, new BackingOptions { Sysfs = new SysfsTree(_sys.Root), MountInfoPath = MountInfo(), DevDirectory = devDir });
        ulong dataoff = _guest.Number("pfn0.0.resource") - _guest.Number("namespace0.1.resource");
        Assert.Equal(0x200000000UL + dataoff, r.Spa!.WindowStart);
        var refusal = Assert.Single(r.Refusals);
        Assert.Equal(RefusalReason.Metadata, refusal.Reason);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"0x{0x200000000UL + dataoff:x}"), refusal.Detail, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (_loop is not null)
            Shell.Run("losetup", ["-d", _loop], check: false);
        _sys.Dispose();
        Directory.Delete(_work, recursive: true);
    }
}
