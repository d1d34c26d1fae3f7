using XenVnvdimm.DeviceModel.Backing;
using XenVnvdimm.DeviceModel.Backing.Kernel;
using XenVnvdimm.DeviceModel.Backing.Sysfs;
using XenVnvdimm.Tests.Backing.Support;
using Xunit;

namespace XenVnvdimm.Tests.Claims;

/// <summary>
/// A block device dom0 uses is refused, naming the user: active swap, a mounted partition and an
/// exclusive opener on real loop devices (the kernel's /proc/swaps, mountinfo and O_EXCL), a stacked holder (dm/md) in a synthetic
/// sysfs (this machine has no device-mapper).
/// </summary>
public sealed class BlockDeviceInUseTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("xvn-inuse-").FullName;
    private readonly List<string> _loops = [];

    private string Loop(string image, bool partscan = false)
    {
        string loop = Shell.Run("losetup", partscan ? ["--find", "--show", "--partscan", image] : ["--find", "--show", image]).Trim();
        _loops.Add(loop);
        return loop;
    }

    private string Image(string name, long mib)
    {
        string path = Path.Combine(_work, name);
        using (var f = File.Create(path))
            f.SetLength(mib << 20);
        return path;
    }

    private static BackingResolution Attach(string node, BackingOptions? options = null)
        => BackingResolver.Resolve(node, (options ?? new BackingOptions()) with { AssumeSpaBase = 0x1_0000_0000, Lock = BackingLockMode.Exclusive });

    [Fact]
    public void ADeviceUsedAsSwapIsRefusedNamingTheSwap()
    {
        string loop = Loop(Image("swap.img", 64));
        Shell.Run("mkswap", loop);
        Shell.Run("swapon", loop);
        try
        {
            using var r = Attach(loop);
            Assert.False(r.Accepted);
            string name = Path.GetFileName(loop);
            Assert.Contains(r.Refusals, x => x.Reason == RefusalReason.InUse && x.Detail == $"{name} is active swap ({loop} in /proc/swaps)");
        }
        finally
        {
            Shell.Run("swapoff", loop);
        }
        // Control: the same device, swap off, is accepted.
        using var free = Attach(loop);
        Assert.True(free.Accepted, string.Join("; ", free.Refusals));
    }

    [Fact]
    public void ADeviceAnotherProcessHoldsExclusivelyIsRefused()
    {
        string loop = Loop(Image("held.img", 8));
        // What md, dm, a mount or another companion do: the kernel's exclusive claim on the device.
        using (var holder = NativeFile.Open(loop, writable: true, exclusive: true))
        {
            using var r = Attach(loop);
            Assert.False(r.Accepted);
            Assert.Contains(r.Refusals, x => x.Reason == RefusalReason.InUse && x.Detail.StartsWith("the device is held exclusively (O_EXCL: EBUSY)", StringComparison.Ordinal));
        }
        // Control: the holder gone, the same device is accepted.
        using var free = Attach(loop);
        Assert.True(free.Accepted, string.Join("; ", free.Refusals));
    }

    [Fact]
    public void AWholeDiskWithAMountedPartitionIsRefusedNamingTheMount()
    {
        string image = Image("disk.img", 64);
        var psi = new System.Diagnostics.ProcessStartInfo("sfdisk", ["--quiet", "--label", "dos", image]) { RedirectStandardInput = true };
        using (var p = System.Diagnostics.Process.Start(psi)!)
        {
            p.StandardInput.Write("start=2048, type=83\n");
            p.StandardInput.Close();
            p.WaitForExit();
        }
        string loop = Loop(image, partscan: true);
        var (part, created) = Shell.PartitionNode(loop);
        string mnt = Path.Combine(_work, "mnt");
        Directory.CreateDirectory(mnt);
        Shell.Run("mkfs.ext4", "-q", "-F", part);
        Shell.Run("mount", part, mnt);
        try
        {
            using var r = Attach(loop);
            Assert.Contains(r.Refusals, x => x.Reason == RefusalReason.InUse && x.Detail == $"{Path.GetFileName(part)} is mounted at {mnt}");
            using var p1 = Attach(part);
            Assert.Contains(p1.Refusals, x => x.Reason == RefusalReason.InUse && x.Detail == $"{Path.GetFileName(part)} is mounted at {mnt}");
        }
        finally
        {
            Shell.Run("umount", mnt);
            if (created)
                File.Delete(part);
            Shell.Run("partx", ["-d", loop], check: false);
        }
    }

    [Fact]
    public void APmemDiskWhosePartitionHasAHolderIsRefusedNamingTheHolder()
    {
        using var sys = new SyntheticSysfs();
        string loop = Loop(Image("pmem.img", 8));
        string mm = File.ReadAllText($"/sys/class/block/{Path.GetFileName(loop)}/dev").Trim();
        sys.FsdaxPmem0(mm, partDev: "259:1"); // the loop device plays pmem0
        string part = $"{SyntheticSysfs.Bus}/region0/pfn0.0/block/pmem0/pmem0p1";
        sys.Attr(part, "dev", "259:1");
        var options = new BackingOptions { Sysfs = new SysfsTree(sys.Root), MountInfoPath = Path.Combine(_work, "none"), SwapsPath = Path.Combine(_work, "none") };
        using (var r = BackingResolver.Resolve(loop, options with { Lock = BackingLockMode.Exclusive }))
            Assert.True(r.Accepted, string.Join("; ", r.Refusals));
        sys.Attr($"{part}/holders", "dm-3", "");
        using (var r = BackingResolver.Resolve(loop, options with { Lock = BackingLockMode.Exclusive }))
        {
            var refusal = Assert.Single(r.Refusals);
            Assert.Equal(RefusalReason.InUse, refusal.Reason);
            Assert.StartsWith("pmem0p1 is held by dm-3", refusal.Detail, StringComparison.Ordinal);
        }
    }

    public void Dispose()
    {
        foreach (string l in _loops)
            Shell.Run("losetup", ["-d", l], check: false);
        Directory.Delete(_work, recursive: true);
    }
}
