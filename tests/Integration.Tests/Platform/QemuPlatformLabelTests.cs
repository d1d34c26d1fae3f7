using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// The qemu platform serves a real guest's label DSM calls: ndctl initialises labels, creates an
/// fsdax and a devdax namespace, writes a file through ext4 with DAX; a second run of the
/// companion boots the guest again and finds the same namespaces and file. The guest's
/// <c>ndctl read-labels</c> agrees byte for byte with the label files on the host.
/// </summary>
public class QemuPlatformLabelTests
{
    private const string FirstBoot = """
        set -e
        ndctl disable-region all
        ndctl init-labels -f all
        ndctl enable-region all
        ndctl create-namespace -r region0 -m fsdax -s 128M > /dev/null
        ndctl create-namespace -r region1 -m devdax -s 64M > /dev/null
        mkfs.ext4 -q -F -b 4096 /dev/pmem0
        mkdir -p /mnt && mount -t ext4 -o dax /dev/pmem0 /mnt
        grep -q 'dax=always\|,dax' /proc/mounts && echo "DAXMOUNT ok"
        echo "persistent hello $(cat /sys/bus/nd/devices/namespace0.0/uuid)" > /mnt/hello.txt
        sync; umount /mnt
        """;

    private const string Report = """
        for ns in /sys/bus/nd/devices/namespace*.*; do
          [ -e $ns/uuid ] && [ "$(cat $ns/uuid)" != "" ] && echo "NS $(basename $ns) $(cat $ns/uuid) $(cat $ns/mode 2>/dev/null)"
        done
        for d in /sys/bus/nd/devices/nmem*; do
          n=$(basename $d)
          ndctl read-labels $n -o /tmp/$n.bin >/dev/null 2>&1
          echo "LABELS handle=$(cat $d/nfit/handle) sha256=$(sha256sum /tmp/$n.bin | cut -d' ' -f1) size=$(stat -c %s /tmp/$n.bin)"
        done
        """;

    private const string SecondBoot = """
        set -e
        mkdir -p /mnt && mount -t ext4 -o dax /dev/pmem0 /mnt
        echo "FILE $(cat /mnt/hello.txt)"
        umount /mnt
        """;

    [Fact]
    public void LabelsNamespacesAndDataSurviveASecondRun()
    {
        GuestRunner.RequireTools();
        using var d = new TempDir();
        string a = d.Sparse("a.img", 256 << 20), b = d.Sparse("b.img", 256 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}, serial=0x1a0001', 'backend={b}, label_size=256K, serial=0x1a0002' ]\n");
        // A new guest: its labels go under the labels root, keyed by serial.
        string la = Path.Combine(SimState.LabelDirectory, "001a0001.label"), lb = Path.Combine(SimState.LabelDirectory, "001a0002.label");

        var first = Run(d, "first.sh", FirstBoot + "\n" + Report);
        Assert.Contains("DAXMOUNT ok", first);
        var ns1 = Namespaces(first);
        // sysfs names the modes by their old names: fsdax is "memory", devdax is "dax".
        Assert.Contains(ns1, n => n.Mode == "memory");
        Assert.Contains(ns1, n => n.Mode == "dax");
        CheckLabelsMatchHost(first, la, lb);
        Assert.False(File.Exists(a + ".label"));

        var second = Run(d, "second.sh", SecondBoot + "\n" + Report);
        var ns2 = Namespaces(second);
        Assert.Equal(ns1.OrderBy(n => n.Uuid), ns2.OrderBy(n => n.Uuid));
        string fsdaxUuid = ns1.Single(n => n.Mode == "memory").Uuid;
        Assert.Contains($"FILE persistent hello {fsdaxUuid}", second);
        CheckLabelsMatchHost(second, la, lb);
    }

    private static string Run(TempDir d, string name, string script)
    {
        File.WriteAllText(d.File(name), script);
        var r = ProcessRunner.XenVnvdimm("run", "--platform", "qemu", "--config", d.File("vm.cfg"), "--guest-script", d.File(name), "--timeout", "240");
        Assert.True(r.ExitCode == 0, r.ToString());
        return r.Stdout;
    }

    private static List<(string Uuid, string Mode)> Namespaces(string console) =>
        Regex.Matches(console, @"^NS namespace\d+\.\d+ ([0-9a-f-]{36}) (\w+)$", RegexOptions.Multiline)
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();

    private static void CheckLabelsMatchHost(string console, string labelA, string labelB)
    {
        var seen = Regex.Matches(console, @"^LABELS handle=0x(\d+) sha256=([0-9a-f]{64}) size=(\d+)$", RegexOptions.Multiline)
            .ToDictionary(m => Convert.ToInt32(m.Groups[1].Value, 16), m => (Hash: m.Groups[2].Value, Size: long.Parse(m.Groups[3].Value)));
        Assert.True(seen.Count == 2, console);
        foreach (var (handle, file) in new[] { (1, labelA), (2, labelB) })
        {
            byte[] host = File.ReadAllBytes(file);
            Assert.Equal(host.Length, seen[handle].Size);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(host)), seen[handle].Hash);
            Assert.Contains((byte)'N', host); // "NAMESPACE_INDEX" was written by the guest's ndctl
        }
    }
}
