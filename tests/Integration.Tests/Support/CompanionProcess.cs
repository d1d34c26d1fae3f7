using System.Diagnostics;

namespace XenVnvdimm.Tests.Integration;

/// <summary>Long-running xen-vnvdimm processes (xenstored, run) started by a test, and polling for their effects.</summary>
public static class CompanionProcess
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "xen-vnvdimm.dll");

    /// <summary>Starts <c>xen-vnvdimm ARGS</c> with stdout/stderr redirected; XENSTORED_PATH set when <paramref name="xenstoreSocket"/> is given.</summary>
    public static Process Start(string? xenstoreSocket, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        if (xenstoreSocket is not null)
            psi.Environment["XENSTORED_PATH"] = xenstoreSocket;
        return Process.Start(psi)!;
    }

    /// <summary>Polls <paramref name="condition"/> every 200 ms; fails the test after <paramref name="seconds"/>.</summary>
    public static async Task WaitFor(Func<bool> condition, string what, int seconds = 150)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(200);
        }
    }
}
