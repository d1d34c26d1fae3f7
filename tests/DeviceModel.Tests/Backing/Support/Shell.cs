using System.Diagnostics;

namespace XenVnvdimm.Tests.Backing.Support;

/// <summary>Runs host tools for the tests; a missing tool is a failure, not a skip.</summary>
internal static class Shell
{
    public static string Run(string file, params string[] args) => Run(file, args, check: true).Stdout;

    public static (int Code, string Stdout, string Stderr) Run(string file, string[] args, bool check, int timeoutMs = 600_000)
    {
        var psi = new ProcessStartInfo(Require(file)) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} timed out");
        }
        var result = (p.ExitCode, stdout.Result, stderr.Result);
        if (check && p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {result.Item3}{result.Item2}");
        return result;
    }

    /// <summary>Runs a tool that must be refused with EPERM (on a pinned file), and returns its stderr.</summary>
    public static string Refused(string tool, params string[] args)
    {
        var (code, stdout, stderr) = Run(tool, args, check: false);
        Assert.True(code != 0, $"{tool} {string.Join(' ', args)} succeeded on a pinned file: {stdout}{stderr}");
        Assert.Contains("Operation not permitted", stdout + stderr, StringComparison.Ordinal);
        return stderr;
    }

    /// <summary>
    /// The /dev node of the first partition of loop device <paramref name="loop"/>. Where the loop
    /// driver does not scan partitions itself (max_part=0) they are added with <c>partx -a</c>; the
    /// node is made with mknod when no devtmpfs does. Returns the node and whether it was made here.
    /// </summary>
    public static (string Path, bool Created) PartitionNode(string loop)
    {
        string name = System.IO.Path.GetFileName(loop) + "p1";
        string dev = $"/sys/class/block/{name}/dev";
        for (int i = 0; i < 10 && !File.Exists(dev); i++)
            Thread.Sleep(100);
        if (!File.Exists(dev))
            Run("partx", "-a", loop);
        for (int i = 0; i < 50 && !File.Exists(dev); i++)
            Thread.Sleep(100);
        string node = "/dev/" + name;
        for (int i = 0; i < 20 && !File.Exists(node); i++)
            Thread.Sleep(100);
        if (File.Exists(node))
            return (node, false);
        Run("mknod", [node, "b", .. File.ReadAllText(dev).Trim().Split(':')], check: true);
        return (node, true);
    }

    /// <summary>Full path of a tool on PATH (plus the sbin directories); throws when absent.</summary>
    public static string Require(string tool)
    {
        if (tool.Contains('/'))
            return File.Exists(tool) ? tool : throw new FileNotFoundException($"required tool {tool} is missing (scripts/setup installs it)");
        string path = (Environment.GetEnvironmentVariable("PATH") ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
        foreach (string dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"required tool {tool} is missing (scripts/setup installs it)");
    }
}
