using System.Diagnostics;

namespace XenVnvdimm.Tests.Support;

/// <summary>Locates and starts the built <c>xen-vnvdimm</c> program of the same configuration as these tests.</summary>
public static class XenVnvdimmProgram
{
    public static string DllPath
    {
        get
        {
            // tests/XenStore.Tests/bin/<Config>/<tfm>/ → devicemodel/bin/<Config>/<tfm>/xen-vnvdimm.dll
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            string tfm = output.Name;
            string config = output.Parent!.Name;
            string root = output.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            string dll = Path.Combine(root, "devicemodel", "bin", config, tfm, "xen-vnvdimm.dll");
            if (!File.Exists(dll))
                throw new Xunit.Sdk.XunitException($"{dll} not built");
            return dll;
        }
    }

    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(DllPath);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        return psi;
    }

    public static async Task<ToolResult> RunAsync(params string[] args)
    {
        using var p = Process.Start(StartInfo(args))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await p.WaitForExitAsync(timeout.Token);
        return new ToolResult(p.ExitCode, await stdout, await stderr);
    }
}
