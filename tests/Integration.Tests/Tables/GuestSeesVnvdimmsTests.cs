using System.Text.Json;
using System.Text.RegularExpressions;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// A real Linux guest judges the tables: QEMU TCG boots the Debian kernel with our NFIT and SSDT
/// (-acpitable), the vNVDIMM memory as pc-dimms at the layout's addresses, and no device model
/// answering the mailbox. From inside the guest we check the pmem devices, their sizes and
/// addresses, the unarmed device being read-only, and that writes land in the right host file
/// at the right offset.
/// </summary>
public class GuestSeesVnvdimmsTests
{
    private const string GuestScript = """
        set -u
        for b in /sys/block/pmem*; do
          n=$(basename $b)
          ns=$(readlink -f $b/device)
          echo "PMEM $n start=$(cat $ns/resource) size=$(( $(cat $b/size) * 512 )) ro=$(cat $b/ro)"
        done
        grep -i 'persistent memory' /proc/iomem | sed 's/^ */IOMEM /'
        # Write a pattern at 1 MiB + 4 KiB * slot into every writable pmem; try the read-only one too.
        for b in /sys/block/pmem*; do
          n=$(basename $b); ns=$(readlink -f $b/device); start=$(cat $ns/resource)
          if [ "$(cat $b/ro)" = 1 ]; then
            if echo x | dd of=/dev/$n bs=1 seek=4096 conv=notrunc 2>/dev/null; then echo "ROWRITE $n succeeded"; else echo "ROWRITE $n refused"; fi
            continue
          fi
          printf 'XVND-%s' "$n" > /tmp/pat
          dd if=/tmp/pat of=/dev/$n bs=4096 seek=257 conv=notrunc,fsync 2>/dev/null && echo "WROTE $n"
        done
        sync
        """;

    [Fact]
    public async Task GuestSeesExactlyTheConfiguredVnvdimms()
    {
        GuestRunner.RequireTools();
        using var d = new TempDir();
        string[] backends = [d.Sparse("a.img", 64 << 20), d.Sparse("b.img", 128 << 20), d.Sparse("c.img", 32 << 20)];
        string config = $"""
            vnvdimms = [ 'backend={backends[0]}',
                         'backend={backends[1]}, unarmed=1',
                         'backend={backends[2]}, label_size=0, node=0' ]
            """;
        string outDir = TableConfigs.Build(d, config, "qemu");
        var devices = TableConfigs.Layout(outDir).GetProperty("devices").EnumerateArray().ToList();
        Assert.Equal(3, devices.Count);

        var args = new List<string> { "--table", Path.Combine(outDir, "NFIT.bin"), "--table", Path.Combine(outDir, "SSDT.aml"), "-c", GuestScript, "--timeout", "150" };
        foreach (var dev in devices)
            args.AddRange(["--pcdimm", $"{dev.GetProperty("backend").GetString()}@{dev.GetProperty("gpa").GetString()}"]);
        var run = await GuestRunner.RunAsync(args, TimeSpan.FromSeconds(200));
        Assert.True(run.ExitCode == 0, run.ToString());

        var seen = Regex.Matches(run.Stdout, @"^PMEM (pmem\d+) start=0x([0-9a-f]+) size=(\d+) ro=(\d)$", RegexOptions.Multiline)
            .ToDictionary(m => Convert.ToUInt64(m.Groups[2].Value, 16), m => (Name: m.Groups[1].Value, Size: ulong.Parse(m.Groups[3].Value), Ro: m.Groups[4].Value == "1"));
        Assert.True(seen.Count == 3, run.Stdout);
        var iomem = Regex.Matches(run.Stdout, @"^IOMEM ([0-9a-f]+)-([0-9a-f]+) : Persistent Memory", RegexOptions.Multiline)
            .Select(m => (Start: Convert.ToUInt64(m.Groups[1].Value, 16), End: Convert.ToUInt64(m.Groups[2].Value, 16))).ToList();

        foreach (var dev in devices)
        {
            ulong gpa = Convert.ToUInt64(dev.GetProperty("gpa").GetString(), 16);
            ulong size = dev.GetProperty("size").GetUInt64();
            bool unarmed = dev.GetProperty("unarmed").GetBoolean();
            Assert.True(seen.TryGetValue(gpa, out var pmem), $"no pmem at planned gpa 0x{gpa:x}:\n{run.Stdout}");
            Assert.Equal(size, pmem.Size);
            Assert.Equal(unarmed, pmem.Ro);
            Assert.Contains((gpa, gpa + size - 1), iomem);

            byte[] host = new byte[64];
            using (var f = File.OpenRead(dev.GetProperty("backend").GetString()!))
            {
                f.Position = 257 * 4096;
                f.ReadExactly(host);
            }
            string text = System.Text.Encoding.ASCII.GetString(host).TrimEnd('\0');
            if (unarmed)
            {
                Assert.Contains($"ROWRITE {pmem.Name} refused", run.Stdout);
                Assert.Equal("", text);
            }
            else
            {
                Assert.Contains($"WROTE {pmem.Name}", run.Stdout);
                Assert.Equal($"XVND-{pmem.Name}", text);
            }
        }
    }
}
