
using static XenVnvdimm.Tests.Integration.CompanionProcess;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// Hot-add over xenstore on the qemu platform: the embedded xenstored, the companion publishing
/// its state, Debian's xenstore-* tools and our hot-add command as the toolstack, and a real guest
/// that sees the new vNVDIMM (after re-binding the nfit driver, which re-evaluates _FIT), whose
/// writes land in the new backing file, and whose ndctl creates an fsdax namespace on it.
/// </summary>
public class HotAddTests
{
    private const string GuestScript = """
        printf 'XVND-READY' | dd of=/dev/pmem0 bs=4096 conv=fsync 2>/dev/null
        for i in $(seq 1 120); do
          [ -e /dev/pmem1 ] && break
          echo ACPI0012:00 > /sys/bus/acpi/drivers/nfit/unbind 2>/dev/null
          echo ACPI0012:00 > /sys/bus/acpi/drivers/nfit/bind 2>/dev/null
          sleep 1
        done
        for b in /sys/block/pmem*; do echo "PMEM $(basename $b) $(cat $(readlink -f $b/device)/resource) $(( $(cat $b/size) * 512 ))"; done
        printf 'XVND-HOTADDED' | dd of=/dev/pmem1 bs=4096 seek=3 conv=fsync 2>/dev/null && echo WROTE
        # a namespace on the hot-added vNVDIMM: its info block goes through the guest's mapping
        ns=$(basename $(readlink -f /sys/block/pmem1/device))
        ndctl create-namespace -f -e $ns -m fsdax --map=mem > /tmp/ns.json && grep -q '"mode":"fsdax"' /tmp/ns.json && echo "NAMESPACE fsdax on $ns"
        for b in /sys/block/pmem*; do echo "AFTER $(basename $b) $(basename $(readlink -f $b/device))"; done
        """;

    [Fact]
    public async Task HotAddedDeviceAppearsInTheRunningGuest()
    {
        GuestRunner.RequireTools();
        using var d = new TempDir();
        string a = d.Sparse("a.img", 64 << 20), c = d.Sparse("c.img", 32 << 20), e = d.Sparse("e.img", 32 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}, label_size=0' ]\nvnvdimm_slots = 4\n");
        File.WriteAllText(d.File("g.sh"), GuestScript);
        string sock = d.File("xs.sock");
        using var xenstored = Start(null, "xenstored", "--socket", sock);
        await WaitFor(() => File.Exists(sock), "xenstored socket");
        using var run = Start(sock, "run", "--platform", "qemu", "--domid", "7", "--config", d.File("vm.cfg"), "--guest-script", d.File("g.sh"), "--timeout", "240");
        var runOut = run.StandardOutput.ReadToEndAsync();
        var runErr = run.StandardError.ReadToEndAsync();
        try
        {
            string b = "/local/domain/0/device-model/7/vnvdimm";
            await WaitFor(() => File.ReadAllBytes(a).AsSpan(0, 10).SequenceEqual("XVND-READY"u8) || run.HasExited, "guest ready");
            if (run.HasExited)
                Assert.Fail($"the companion exited early: {await runOut}\n{await runErr}");
            Assert.Equal("running", Xs(sock, "xenstore-read", $"{b}/state").Stdout.Trim());
            Assert.Equal("0x100000000", Xs(sock, "xenstore-read", $"{b}/devices/0/gpa").Stdout.Trim());

            // Refusals first: each leaves the guest unchanged.
            var bad = HotAdd(sock, "--request-id", "bad1", $"backend={c}, size=3M");
            Assert.Equal(1, bad.ExitCode);
            Assert.Contains("error: request bad1: size 3M is not a multiple of align 2M", bad.Stdout);
            var missing = HotAdd(sock, "--request-id", "bad2", $"backend={d.File("nope.img")}");
            Assert.Contains("does not exist", missing.Stdout);
            Assert.Equal(0, Xs(sock, "xenstore-write", $"{b}/command", "rm1 remove slot=0").ExitCode);
            await WaitFor(() => Xs(sock, "xenstore-exists", $"{b}/result/rm1").ExitCode == 0, "removal result");
            Assert.StartsWith("error: removal is not supported", Xs(sock, "xenstore-read", $"{b}/result/rm1").Stdout);
            // A command node the guest could read is refused.
            Assert.Equal(0, Xs(sock, "xenstore-chmod", $"{b}/command", "n0", "r7").ExitCode);
            Assert.Equal(0, Xs(sock, "xenstore-write", $"{b}/command", $"leak1 add backend={e}").ExitCode);
            await WaitFor(() => Xs(sock, "xenstore-exists", $"{b}/result/leak1").ExitCode == 0, "refusal");
            Assert.Contains("refusing to act: the command node is readable by domain 7", Xs(sock, "xenstore-read", $"{b}/result/leak1").Stdout);
            Assert.Equal(0, Xs(sock, "xenstore-chmod", $"{b}/command", "n0").ExitCode);
            Assert.NotEqual(0, Xs(sock, "xenstore-exists", $"{b}/devices/1").ExitCode);

            // The add itself, then the same request again: answered once, executed once.
            var ok = HotAdd(sock, "--request-id", "add1", $"backend={c}, label_size=0");
            Assert.True(ok.ExitCode == 0, ok.ToString());
            Assert.Equal("ok slot=1", ok.Stdout.Trim());
            Assert.Equal(0, Xs(sock, "xenstore-write", $"{b}/command", $"add1 add backend={e}, label_size=0").ExitCode);
            await WaitFor(() => Xs(sock, "xenstore-read", $"{b}/command").Stdout.Trim() == "", "repeat consumed");
            Assert.Equal("ok slot=1", Xs(sock, "xenstore-read", $"{b}/result/add1").Stdout.Trim());
            Assert.NotEqual(0, Xs(sock, "xenstore-exists", $"{b}/devices/2").ExitCode);
            Assert.Equal("0x104000000", Xs(sock, "xenstore-read", $"{b}/devices/1/gpa").Stdout.Trim());

            Assert.True(run.WaitForExit(200_000), "guest did not finish");
            string console = await runOut;
            Assert.True(run.ExitCode == 0, console + await runErr);
            Assert.Contains("PMEM pmem0 0x100000000 67108864", console);
            Assert.Contains("PMEM pmem1 0x104000000 33554432", console);
            Assert.Contains("WROTE", console);
            byte[] got = new byte[13];
            using (var f = File.OpenRead(c)) { f.Position = 3 * 4096; f.ReadExactly(got); }
            Assert.Equal("XVND-HOTADDED"u8.ToArray(), got);
            // ndctl wrote an fsdax info block (nd_pfn_sb at namespace offset 4 KiB) into the new backing
            Assert.Matches(@"NAMESPACE fsdax on namespace1\.0", console);
            Assert.Matches(@"AFTER pmem1 pfn1\.\d+", console);
            byte[] sig = new byte[16];
            using (var f = File.OpenRead(c)) { f.Position = 4096; f.ReadExactly(sig); }
            Assert.Equal("NVDIMM_PFN_INFO\0"u8.ToArray(), sig);
        }
        finally
        {
            if (!run.HasExited) run.Kill(entireProcessTree: true);
            if (!xenstored.HasExited) xenstored.Kill(entireProcessTree: true);
        }
    }

    private static ProcessResult HotAdd(string sock, params string[] args) =>
        ProcessRunner.Run("dotnet", new[] { Dll, "hot-add", "--domid", "7", "--timeout", "60" }.Concat(args), env: ("XENSTORED_PATH", sock));

    private static ProcessResult Xs(string sock, string tool, params string[] args) =>
        ProcessRunner.Run(tool, args, env: ("XENSTORED_PATH", sock));



}
