using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>Builds the program's logger factory: console on stderr, systemd format under systemd.</summary>
internal static class Logging
{
    public static ILoggerFactory Create(IReadOnlyList<string> argv)
    {
        var level = argv.Contains("-v") || argv.Contains("--verbose") ? LogLevel.Debug
                  : argv.Contains("--quiet") ? LogLevel.Error
                  : LogLevel.Warning;
        if (Environment.GetEnvironmentVariable("XEN_VNVDIMM_LOG") is { } env && Enum.TryParse<LogLevel>(env, true, out var l))
            level = l;
        bool underSystemd = Environment.GetEnvironmentVariable("JOURNAL_STREAM") is not null;
        return LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(level);
            // All log output goes to stderr so stdout stays machine-readable.
            b.AddConsole(o =>
            {
                o.LogToStandardErrorThreshold = LogLevel.Trace;
                o.FormatterName = underSystemd ? ConsoleFormatterNames.Systemd : ConsoleFormatterNames.Simple;
            });
            if (underSystemd)
                b.AddSystemdConsole(o => o.IncludeScopes = false);
            else
                b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        });
    }
}
