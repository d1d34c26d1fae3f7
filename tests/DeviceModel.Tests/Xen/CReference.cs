using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace XenVnvdimm.Tests.Xen;

/// <summary>
/// Builds and runs the C references in c/ against Xen's public headers (libxen-dev). A missing gcc or
/// missing headers fail the test: scripts/setup installs both.
/// </summary>
internal static class CReference
{
    private static readonly Lazy<string> s_abi = new(() => Run("abi.c"));
    private static readonly Lazy<string> s_encode = new(() => Run("encode.c"));

    /// <summary>Output of c/abi.c.</summary>
    public static string AbiJson => s_abi.Value;

    /// <summary>Output of c/encode.c: name → (ioctl, hex blobs).</summary>
    public static IReadOnlyDictionary<string, (uint Ioctl, string[] Blobs)> Encodings =>
        s_encode.Value.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => (Convert.ToUInt32(p[1], 16), p[2..]));

    /// <summary>Offset of <paramref name="field"/> in <paramref name="cStruct"/> according to the headers.</summary>
    public static int Offset(string cStruct, string field)
    {
        using var doc = JsonDocument.Parse(AbiJson);
        return doc.RootElement.GetProperty("structs").GetProperty(cStruct).GetProperty("fields").GetProperty(field).GetInt32();
    }

    private static readonly Lazy<string> s_trace = new(() =>
    {
        string dir = SourceDir();
        string exe = Path.Combine(Path.GetTempPath(), $"xenvnvdimm-{Environment.ProcessId}-libxc_trace");
        Exec("gcc", ["-std=gnu11", "-Wall", "-Werror", "-rdynamic", "-I", dir, "-o", exe, Path.Combine(dir, "libxc_trace.c"),
            "-lxenctrl", "-lxendevicemodel", "-lxenevtchn", "-lxenforeignmemory"]);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(exe);
        return exe;
    });

    /// <summary>Output of c/libxc_trace.c (Xen's own libraries over a scripted fake kernel) for <paramref name="args"/>.</summary>
    public static string[] LibxcTrace(params string[] args) =>
        Exec(s_trace.Value, args).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static string SourceDir([CallerFilePath] string self = "") => Path.Combine(Path.GetDirectoryName(self)!, "c");

    private static string Run(string source)
    {
        string dir = SourceDir();
        if (!File.Exists("/usr/include/xen/domctl.h"))
            throw new InvalidOperationException("Xen headers missing: install libxen-dev (scripts/setup)");
        string exe = Path.Combine(Path.GetTempPath(), $"xenvnvdimm-{Environment.ProcessId}-{Path.GetFileNameWithoutExtension(source)}");
        Exec("gcc", ["-std=gnu11", "-Wall", "-Werror", "-I", dir, "-o", exe, Path.Combine(dir, source)]);
        try
        {
            return Exec(exe, []);
        }
        finally
        {
            File.Delete(exe);
        }
    }

    /// <summary>Runs a C reference program (or its compiler): its stdout, or a failure with its stderr.</summary>
    internal static string Exec(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} failed ({p.ExitCode}): {stderr.Result}");
        return stdout;
    }
}
