using System.Globalization;
using System.Text.RegularExpressions;

namespace XenVnvdimm.Tests.Backing.Support;

/// <summary>
/// Boots a QEMU guest (scripts/guest/run) with one of QEMU's own NVDIMMs with a label area, in which
/// the guest's ndctl initialises labels and makes a 32 MiB devdax namespace (namespace0.0 at region
/// offset 0) and a 128 MiB fsdax namespace after it (namespace0.1, so at a non-zero offset),
/// partitions the fsdax disk, mounts ext4 on it with dax and writes one file. The backing file then
/// holds real kernel-written labels and info blocks; the guest's sysfs values, partition start, file
/// hash and its own filefrag are kept as the peer's word.
/// </summary>
public sealed partial class GuestNamespaces : IDisposable
{
    public const long ImageSize = 256L << 20;
    public const string LabelSize = "128K";

    private const string Script = """
        set -e
        kv() { echo "KV $1=$2"; }
        echo NFIT-HEX-BEGIN; od -An -tx1 -v /sys/firmware/acpi/tables/NFIT; echo NFIT-HEX-END
        for m in /sys/firmware/memmap/*; do kv "memmap.$(basename $m)" "$(cat $m/start) $(cat $m/end) $(cat $m/type)"; done
        ndctl disable-region region0 >/dev/null
        ndctl init-labels -f nmem0 >/dev/null
        ndctl enable-region region0 >/dev/null
        ndctl create-namespace -r region0 -m devdax -s 32M >/dev/null
        ndctl create-namespace -r region0 -m fsdax -s 128M >/dev/null
        for d in /sys/bus/nd/devices/namespace* /sys/bus/nd/devices/region* /sys/bus/nd/devices/pfn* /sys/bus/nd/devices/dax*; do
          n=$(basename $d)
          for a in resource size align mode namespace; do
            if [ -r $d/$a ]; then v=$(cat $d/$a 2>/dev/null || true); [ -n "$v" ] && kv "$n.$a" "$v"; fi
          done
        done
        pmem=$(basename $(ls -d /sys/bus/nd/devices/pfn0.0/block/pmem*))
        kv pmem "$pmem"
        printf 'n\np\n1\n4096\n\nw\n' | fdisk /dev/$pmem >/dev/null 2>&1 || true
        for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/block/${pmem}p1 ] && break; sleep 0.5; done
        kv part.start "$(cat /sys/class/block/${pmem}p1/start)"
        modprobe ext4 2>/dev/null || true
        mkfs.ext4 -q -F -b 4096 /dev/${pmem}p1
        mkdir -p /mnt
        mount -o dax /dev/${pmem}p1 /mnt
        kv mount.options "$(grep ${pmem}p1 /proc/mounts | cut -d' ' -f4)"
        dd if=/dev/urandom of=/mnt/f bs=1M count=8 2>/dev/null
        sync
        kv file.sha256 "$(sha256sum /mnt/f | cut -d' ' -f1)"
        echo FILEFRAG-BEGIN
        filefrag -v /mnt/f
        echo FILEFRAG-END
        umount /mnt
        """;

    private readonly string _dir;

    public GuestNamespaces()
    {
        _dir = Directory.CreateTempSubdirectory("xvn-guest-ns-").FullName;
        Image = Path.Combine(_dir, "nv0.img");
        using (var f = File.Create(Image))
            f.SetLength(ImageSize);
        string script = Path.Combine(_dir, "guest.sh");
        File.WriteAllText(script, Script);
        string log = Path.Combine(_dir, "console.log");
        string run = Path.Combine(RepoRoot(), "scripts", "guest", "run");
        var (code, _, stderr) = Shell.Run(run, ["--script", script, "--qemu-nvdimm", $"{Image}:{LabelSize}",
            "--timeout", "300", "--log", log, "--quiet"], check: false, timeoutMs: 400_000);
        Console = File.Exists(log) ? File.ReadAllText(log) : "";
        if (code != 0)
            throw new InvalidOperationException($"guest script failed ({code}): {stderr}\n{Console}");
        foreach (Match m in KvLine().Matches(Console))
            Values[m.Groups[1].Value] = m.Groups[2].Value.Trim();
        int begin = Console.IndexOf("FILEFRAG-BEGIN", StringComparison.Ordinal);
        int end = Console.IndexOf("FILEFRAG-END", StringComparison.Ordinal);
        GuestFilefrag = Filefrag.Parse(Console[begin..end]);
        int nb = Console.IndexOf("NFIT-HEX-BEGIN", StringComparison.Ordinal) + "NFIT-HEX-BEGIN".Length;
        int ne = Console.IndexOf("NFIT-HEX-END", StringComparison.Ordinal);
        Nfit = Convert.FromHexString(string.Concat(Console[nb..ne].Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)));
    }

    /// <summary>The NVDIMM's backing file: region offset N is file offset N (one DIMM, labels at the end).</summary>
    public string Image { get; }
    public string Console { get; }
    public Dictionary<string, string> Values { get; } = [];

    /// <summary>The guest's /sys/firmware/acpi/tables/NFIT (QEMU's).</summary>
    public byte[] Nfit { get; }
    internal List<FilefragExtent> GuestFilefrag { get; }

    public ulong Number(string key)
    {
        string v = Values.TryGetValue(key, out var s) ? s : throw new KeyNotFoundException($"guest did not report {key}:\n{Console}");
        return v.StartsWith("0x", StringComparison.Ordinal)
            ? ulong.Parse(v.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)
            : ulong.Parse(v, CultureInfo.InvariantCulture);
    }

    /// <summary>Offset of a namespace in <see cref="Image"/>, from the guest's namespace and region resources.</summary>
    public ulong NamespaceOffset(string ns) => Number($"{ns}.resource") - Number("region0.resource");

    public static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "XenVnvdimm.sln")))
                return d.FullName;
        throw new DirectoryNotFoundException("repository root (XenVnvdimm.sln) not found above the test binaries");
    }

    [GeneratedRegex(@"^KV ([^=\s]+)=(.*)$", RegexOptions.Multiline)]
    private static partial Regex KvLine();

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
