using System.Diagnostics;

namespace XenVnvdimm.Tests.Integration;

/// <summary>Result of a finished process.</summary>
public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>Runs host tools and the xen-vnvdimm program as real processes.</summary>
public static class ProcessRunner
{
    /// <summary>Runs <paramref name="file"/>; a missing tool fails the test with a message naming it.</summary>
    public static ProcessResult Run(string file, IEnumerable<string> args, string? workDir = null, int timeoutSeconds = 300, string? stdin = null, (string Name, string Value)? env = null, IEnumerable<(string Name, string Value)>? envs = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
            WorkingDirectory = workDir ?? Environment.CurrentDirectory,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        foreach (var (name, value) in (env is { } one ? [one] : Array.Empty<(string, string)>()).Concat(envs ?? []))
            psi.Environment[name] = value;
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"cannot run '{file}' ({e.Message}); run scripts/setup to install it");
            throw;
        }
        using (p)
        {
            if (stdin is not null)
            {
                p.StandardInput.Write(stdin);
                p.StandardInput.Close();
            }
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeoutSeconds * 1000))
            {
                p.Kill(entireProcessTree: true);
                Assert.Fail($"'{file} {string.Join(' ', args)}' did not finish within {timeoutSeconds}s");
            }
            p.WaitForExit();
            return new ProcessResult(p.ExitCode, stdout.Result, stderr.Result);
        }
    }

    /// <summary>Runs the xen-vnvdimm program built next to the tests.</summary>
    public static ProcessResult XenVnvdimm(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "xen-vnvdimm.dll");
        Assert.True(File.Exists(dll), $"xen-vnvdimm.dll not found next to the tests ({dll})");
        return Run("dotnet", new[] { dll }.Concat(args));
    }
}
