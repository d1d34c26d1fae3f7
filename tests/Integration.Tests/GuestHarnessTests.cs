using System.Diagnostics;
using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace XenVnvdimm.Tests.Integration;

/// <summary>Result of one <c>scripts/guest/run</c> invocation.</summary>
public sealed record GuestRunResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"exit {ExitCode} after {Elapsed.TotalSeconds:F1}s\n--- stderr ---\n{Stderr}\n--- console ---\n{Stdout}";
}

/// <summary>
/// Runs <c>scripts/guest/run</c> (a throw-away Linux guest under QEMU TCG). A missing tool is a
/// failure, never a skip: the harness is part of what the tests prove.
/// </summary>
public static class GuestRunner
{
    private static readonly Lazy<string> Root = new(FindRepoRoot);

    /// <summary>The directory holding XenVnvdimm.sln, found by walking up from the test binaries.</summary>
    public static string RepoRoot => Root.Value;

    public static string RunScript => Path.Combine(RepoRoot, "scripts", "guest", "run");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "XenVnvdimm.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException(
            $"XenVnvdimm.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Fails (Assert) when a host tool the guest harness needs is missing.</summary>
    public static void RequireTools()
    {
        Assert.True(File.Exists(RunScript), $"guest harness missing: {RunScript}");
        foreach (var tool in new[] { "qemu-system-x86_64", "cpio", "gzip", "timeout", "setsid", "depmod" })
            Assert.True(OnPath(tool), $"required tool '{tool}' is not on PATH (run scripts/setup)");
        Assert.True(File.Exists("/bin/busybox"), "/bin/busybox missing (apt-get install busybox-static)");
        Assert.True(Directory.EnumerateFiles("/boot", "vmlinuz-*").Any(),
            "no /boot/vmlinuz-* (apt-get install linux-image-amd64)");
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin").Append("/sbin")
            .Any(d => File.Exists(Path.Combine(d, tool)));

    /// <summary>
    /// Runs the guest harness with <paramref name="args"/> (passed as-is). The harness has its
    /// own --timeout; <paramref name="hostTimeout"/> is a backstop that kills the process tree.
    /// </summary>
    public static async Task<GuestRunResult> RunAsync(IEnumerable<string> args, TimeSpan hostTimeout)
    {
        var psi = new ProcessStartInfo(RunScript)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = RepoRoot,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var sw = Stopwatch.StartNew();
        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        Assert.True(p.Start(), $"could not start {RunScript}");
        p.StandardInput.Close();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(hostTimeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
            Assert.Fail($"scripts/guest/run did not finish within {hostTimeout}\n{stderr}\n{stdout}");
        }
        p.WaitForExit(); // drains the asynchronous readers
        return new GuestRunResult(p.ExitCode, stdout.ToString(), stderr.ToString(), sw.Elapsed);
    }
}

public sealed class GuestHarnessTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("guest-harness-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteScript(string name, string body)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, body.ReplaceLineEndings("\n"));
        return path;
    }

    [Fact]
    public async Task GuestWriteToPmemLandsAtSameOffsetOfQemuNvdimmBackingFile()
    {
        GuestRunner.RequireTools();
        const long size = 64L << 20;
        const long offset = (5L << 20) + 3 * 4096 + 512; // 512-byte aligned, not page aligned
        var backing = Path.Combine(_dir, "nv0.img");
        using (var f = File.Create(backing))
            f.SetLength(size);
        var pattern = $"XENVNVDIMM-GUEST-PATTERN-{Guid.NewGuid():N}";
        var script = WriteScript("write.sh", $"""
            set -e
            test -b /dev/pmem0
            printf '%s' '{pattern}' | dd of=/dev/pmem0 bs=512 seek={offset / 512} conv=fsync
            dd if=/dev/pmem0 bs=512 skip={offset / 512} count=1 2>/dev/null | grep -q '{pattern}'
            echo WRITE-DONE
            """);

        var r = await GuestRunner.RunAsync(
            ["--script", script, "--qemu-nvdimm", backing, "--timeout", "180"], TimeSpan.FromMinutes(5));
        output.WriteLine(r.ToString());

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("WRITE-DONE", r.Stdout);
        Assert.Equal(size, new FileInfo(backing).Length);
        var bytes = new byte[pattern.Length + 2 * 512];
        using (var f = File.OpenRead(backing))
        {
            f.Position = offset - 512;
            f.ReadExactly(bytes);
        }
        Assert.Equal(pattern, Encoding.ASCII.GetString(bytes, 512, pattern.Length));
        Assert.All(bytes.Take(512), b => Assert.Equal(0, b));             // nothing before it
        Assert.All(bytes.Skip(512 + pattern.Length), b => Assert.Equal(0, b)); // nor after it
    }

    [Fact]
    public async Task GuestScriptExitStatusPropagates()
    {
        GuestRunner.RequireTools();
        var script = WriteScript("exit7.sh", "echo about to exit 7\nexit 7\n");

        var r = await GuestRunner.RunAsync(["--script", script, "--timeout", "120"], TimeSpan.FromMinutes(4));
        output.WriteLine(r.ToString());

        Assert.True(r.ExitCode == 7, r.ToString());
        Assert.Contains("GUEST-EXIT=7", r.Stdout);
        Assert.DoesNotContain("\r", r.Stdout);
    }
}
