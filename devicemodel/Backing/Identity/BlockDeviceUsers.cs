using System.Globalization;
using XenVnvdimm.DeviceModel.Backing.Kernel;
using XenVnvdimm.DeviceModel.Backing.Sysfs;

namespace XenVnvdimm.DeviceModel.Backing.Identity;

/// <summary>
/// Who on the host uses a block device, or the disk or partitions overlapping it: a stacked device
/// (dm, md, LVM, bcache: <c>holders/</c>), active swap (<c>/proc/swaps</c>) and mounts (mountinfo by
/// major:minor). Each use is one sentence naming the user; a device any of them uses must not be
/// mapped into a guest.
/// </summary>
internal static class BlockDeviceUsers
{
    /// <summary>Every use of the device at <paramref name="major"/>:<paramref name="minor"/>, its whole disk and its partitions.</summary>
    public static List<string> Find(SysfsTree sysfs, uint major, uint minor, string mountInfoPath, string swapsPath)
    {
        string dir = sysfs.Resolve($"dev/block/{major}:{minor}");
        var related = Related(dir, $"{major}:{minor}");
        var users = new List<string>();
        foreach (var (name, devDir, dev) in related)
        {
            string holders = Path.Combine(devDir, "holders");
            if (Directory.Exists(holders))
                foreach (string h in Directory.EnumerateFileSystemEntries(holders).Select(Path.GetFileName).Order(StringComparer.Ordinal)!)
                    users.Add($"{name} is held by {h} ({holders}/{h})");
        }
        var byDev = related.ToDictionary(r => r.Dev, r => r.Name);
        foreach (string line in SafeLines(mountInfoPath))
            if (MountEntry.Parse(line) is { } m && byDev.TryGetValue($"{m.Major}:{m.Minor}", out string? mounted))
                users.Add($"{mounted} is mounted at {m.MountPoint}");
        foreach (var (swap, dev) in Swaps(swapsPath))
            if (byDev.TryGetValue(dev, out string? swapped))
                users.Add($"{swapped} is active swap ({swap} in {swapsPath})");
        return users;
    }

    // The device itself; for a whole disk its partitions; for a partition its whole disk.
    private static List<(string Name, string Dir, string Dev)> Related(string dir, string dev)
    {
        var list = new List<(string, string, string)> { (Path.GetFileName(dir), dir, dev) };
        bool partition = File.Exists(Path.Combine(dir, "partition"));
        if (partition)
        {
            string disk = Path.GetDirectoryName(dir)!;
            if (SysfsTree.ReadText(Path.Combine(disk, "dev")) is { } diskDev)
                list.Add((Path.GetFileName(disk), disk, diskDev));
        }
        else if (Directory.Exists(dir))
        {
            foreach (string sub in Directory.EnumerateDirectories(dir).Order(StringComparer.Ordinal))
                if (File.Exists(Path.Combine(sub, "partition")) && SysfsTree.ReadText(Path.Combine(sub, "dev")) is { } partDev)
                    list.Add((Path.GetFileName(sub), sub, partDev));
        }
        return list;
    }

    // /proc/swaps: a header, then "Filename Type Size Used Priority" with the name octal-escaped.
    private static IEnumerable<(string Name, string Dev)> Swaps(string swapsPath)
    {
        foreach (string line in SafeLines(swapsPath).Skip(1))
        {
            string[] f = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 2)
                continue;
            string name = MountEntry.Unescape(f[0]);
            FileStatus st;
            try
            {
                using var file = NativeFile.Open(name, writable: false);
                st = file.Status();
            }
            catch (IOException)
            {
                continue; // a swap whose name no longer resolves (deleted file) cannot be ours
            }
            // A swap partition is its device; a swap file lives on its filesystem's device.
            yield return (name, st.IsBlockDevice
                ? string.Create(CultureInfo.InvariantCulture, $"{st.RdevMajor}:{st.RdevMinor}")
                : string.Create(CultureInfo.InvariantCulture, $"{st.DevMajor}:{st.DevMinor}"));
        }
    }

    private static IEnumerable<string> SafeLines(string path) => File.Exists(path) ? File.ReadLines(path) : [];
}
