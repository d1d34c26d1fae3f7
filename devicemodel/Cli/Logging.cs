using Microsoft.Extensions.Logging;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// The program's logs: one line per entry on stderr (stdout stays machine-readable). On a console
/// a line reads <c>2026-12-04T17:15:37.123Z info: run: message</c>; when systemd started us
/// (JOURNAL_STREAM is set) it reads <c>&lt;6&gt;run: message</c>, the syslog priority journald
/// parses, with no timestamp since journald adds its own.
/// </summary>
internal static class Logging
{
    /// <summary>True when stderr goes to the systemd journal.</summary>
    public static bool UnderJournal => Environment.GetEnvironmentVariable("JOURNAL_STREAM") is { Length: > 0 };

    /// <summary>A logger factory at <paramref name="level"/>, unless XEN_VNVDIMM_LOG names another level.</summary>
    public static ILoggerFactory Create(LogLevel level)
    {
        if (Environment.GetEnvironmentVariable("XEN_VNVDIMM_LOG") is { } env && Enum.TryParse<LogLevel>(env, true, out var l) && Enum.IsDefined(l))
            level = l;
        var provider = new LineLoggerProvider(Console.Error, UnderJournal);
        return LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(level);
            b.AddProvider(provider);
        });
    }

    /// <summary>Writes the program's final error line: at priority err (3) under the journal.</summary>
    public static void Fatal(string line)
    {
        Console.Error.WriteLine(UnderJournal ? "<3>" + line : line);
        Console.Error.Flush();
    }
}
