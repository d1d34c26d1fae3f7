using System.Diagnostics;
using XenVnvdimm.DeviceModel.Platforms.Qemu;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// <c>verify --core</c> against a core QEMU dumps over QMP from a running guest: the vNVDIMM
/// ranges in guest-physical memory equal the backing files; after one byte of a backing file
/// changes, verify fails and names the page.
/// </summary>
public class VerifyCoreTests
{
    private const string Script = """
        set -e
        dd if=/dev/urandom of=/dev/pmem0 bs=4096 count=64 seek=16 conv=fsync 2>/dev/null
        printf 'XVND-CORE-READY' | dd of=/dev/pmem1 bs=4096 conv=fsync 2>/dev/null
        sync
        sleep 150
        """;

    [Fact]
    public async Task CoreMatchesBackingsAndAChangedByteIsNamed()
    {
        GuestRunner.RequireTools();
        using var d = new TempDir();
        string a = d.Sparse("a.img", 64 << 20), b = d.Sparse("b.img", 32 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}, label_size=0', 'backend={b}, label_size=0' ]\n");
        File.WriteAllText(d.File("g.sh"), Script);
        string runDir = d.File("run");

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "xen-vnvdimm.dll"), "run", "--platform", "qemu",
                     "--config", d.File("vm.cfg"), "--guest-script", d.File("g.sh"), "--run-dir", runDir, "--timeout", "200" })
            psi.ArgumentList.Add(arg);
        using var run = Process.Start(psi)!;
        var stdout = run.StandardOutput.ReadToEndAsync();
        var stderr = run.StandardError.ReadToEndAsync();
        try
        {
            // The guest's marker lands in b.img once the pattern in a.img is written.
            var deadline = DateTime.UtcNow.AddSeconds(150);
            while (!File.ReadAllBytes(b).AsSpan(0, 15).SequenceEqual("XVND-CORE-READY"u8))
            {
                if (DateTime.UtcNow > deadline || run.HasExited)
                    Assert.Fail($"guest never got ready: {await Finish(run, stdout, stderr)}");
                await Task.Delay(250);
            }

            string core = d.File("guest.core");
            using (var qmpDeadline = new CancellationTokenSource(TimeSpan.FromSeconds(120)))
            await using (var qmp = await QmpClient.ConnectAsync(Path.Combine(runDir, "qmp.sock"), TimeSpan.FromSeconds(30), qmpDeadline.Token))
            {
                await qmp.ExecuteAsync("dump-guest-memory", qmpDeadline.Token, $"{{\"paging\":false,\"protocol\":\"file:{core}\"}}");
                await qmp.ExecuteAsync("quit", qmpDeadline.Token);
            }
            await run.WaitForExitAsync();

            var ok = ProcessRunner.XenVnvdimm("verify", "--core", core, "--config", d.File("vm.cfg"));
            Assert.True(ok.ExitCode == 0, ok.ToString());
            Assert.Contains($"slot 0 {a}: 16384 pages at GPA 0x100000000 match", ok.Stdout);
            Assert.Contains($"slot 1 {b}: 8192 pages at GPA 0x104000000 match", ok.Stdout);

            using (var f = new FileStream(a, FileMode.Open, FileAccess.ReadWrite))
            {
                f.Position = 0x12345;
                int old = f.ReadByte();
                f.Position = 0x12345;
                f.WriteByte((byte)(old ^ 0x5A));
            }
            var bad = ProcessRunner.XenVnvdimm("verify", "--core", core, "--config", d.File("vm.cfg"));
            Assert.Equal(1, bad.ExitCode);
            Assert.Contains($"slot 0 {a}: guest page at GPA 0x100012000 (backend offset 0x12000, byte 0x12345) differs from the backing file", bad.Stderr);
            Assert.Contains($"slot 1 {b}: 8192 pages at GPA 0x104000000 match", bad.Stdout);
        }
        finally
        {
            if (!run.HasExited)
                run.Kill(entireProcessTree: true);
        }
    }

    private static async Task<string> Finish(Process p, Task<string> stdout, Task<string> stderr)
    {
        if (!p.HasExited)
            p.Kill(entireProcessTree: true);
        return $"{await stdout}\n{await stderr}";
    }
}
