using System.Diagnostics;

namespace XenVnvdimm.Tests.Support;

/// <summary>Result of running an external program.</summary>
public sealed record ToolResult(int ExitCode, string Stdout, string Stderr)
{
    public ToolResult AssertSuccess()
    {
        if (ExitCode != 0)
            throw new Xunit.Sdk.XunitException($"exit code {ExitCode}; stderr: {Stderr}; stdout: {Stdout}");
        return this;
    }
}

/// <summary>
/// Runs Debian's xenstore-* tools and /usr/bin/python3 (with pyxs) against a socket. A missing tool
/// fails the test: CI installs them through scripts/setup.
/// </summary>
public static class Tool
{
    public const string Python = "/usr/bin/python3";

    public static string Find(string name)
    {
        if (name.StartsWith('/'))
        {
            if (!File.Exists(name))
                throw new Xunit.Sdk.XunitException($"{name} is missing: run scripts/setup");
            return name;
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':'))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new Xunit.Sdk.XunitException($"{name} is not installed (Debian package xenstore-utils / python3-pyxs): run scripts/setup");
    }

    public static ProcessStartInfo StartInfo(string name, string socket, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(Find(name))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["XENSTORED_PATH"] = socket;
        return psi;
    }

    public static async Task<ToolResult> RunAsync(string name, string socket, params string[] args)
    {
        using var process = Process.Start(StartInfo(name, socket, args))!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"{name} {string.Join(' ', args)} did not finish within 30 s");
        }
        return new ToolResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs a Python script with Debian's interpreter, where pyxs is importable.</summary>
    public static Task<ToolResult> PythonAsync(string socket, string script, params string[] args) =>
        RunAsync(Python, socket, ["-c", script, .. args]);
}
