using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using XenVnvdimm.DeviceModel.Config;

namespace XenVnvdimm.Tests.Config;

/// <summary>
/// Xen's own config parser, libxlutil (what <c>xl create</c> uses), through c/xlu_dump.c built against
/// libxen-dev's libxlutil.h. A missing gcc or libxen-dev fails the test: scripts/setup installs both.
/// </summary>
internal static class LibXlUtil
{
    private static readonly Lazy<string> s_exe = new(() =>
    {
        if (!File.Exists("/usr/include/libxlutil.h"))
            throw new InvalidOperationException("libxlutil.h missing: install libxen-dev (scripts/setup)");
        string exe = Path.Combine(Path.GetTempPath(), $"xenvnvdimm-{Environment.ProcessId}-xlu_dump");
        Xen.CReference.Exec("gcc", ["-std=gnu11", "-Wall", "-Werror", "-o", exe, Path.Combine(SourceDir(), "xlu_dump.c"), "-lxlutil"]);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(exe);
        return exe;
    });

    /// <summary>
    /// libxlutil's reading of <paramref name="text"/>: null if it rejects the file, else each of
    /// <paramref name="keys"/> rendered as <see cref="Render"/> does ("absent" when not set).
    /// </summary>
    public static Dictionary<string, string>? Read(string text, IEnumerable<string> keys) =>
        Lines(text, keys)?.ToDictionary(p => p[0], p => p[1]);

    /// <summary>xlu_cfg_get_long's reading of <paramref name="key"/>: "long:N" or "long:error".</summary>
    public static string LongReading(string text, string key) =>
        (Lines(text, [key]) ?? throw new InvalidOperationException("libxlutil rejects the file")).Single()[2];

    private static string[][]? Lines(string text, IEnumerable<string> keys)
    {
        string file = Path.Combine(Path.GetTempPath(), $"xenvnvdimm-{Environment.ProcessId}-{Guid.NewGuid():N}.cfg");
        File.WriteAllBytes(file, Encoding.UTF8.GetBytes(text));
        try
        {
            var lines = Xen.CReference.Exec(s_exe.Value, [file, .. keys]).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (lines[0] == "rejected")
                return null;
            Assert.Equal("accepted", lines[0]);
            // "KEY VALUE[ long:...]"
            return [.. lines.Skip(1).Select(l => l.Split(' '))];
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Our parser's value in xlu_dump's notation: s:HEX for a string, [a,b] for a list.</summary>
    public static string Render(XlValue? v) =>
        v is null ? "absent"
        : v.Scalar is not null ? "s:" + Convert.ToHexStringLower(Encoding.UTF8.GetBytes(v.Scalar))
        : "[" + string.Join(",", v.Items!.Select(Render)) + "]";

    private static string SourceDir([CallerFilePath] string self = "") => Path.Combine(Path.GetDirectoryName(self)!, "c");
}
