using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>Options every command accepts, before or after the command name.</summary>
internal static class GlobalOptions
{
    /// <summary><c>-v</c>/<c>--verbose</c>: debug logging.</summary>
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "log debug messages too",
        Recursive = true,
    };

    /// <summary><c>--quiet</c>: errors only.</summary>
    public static readonly Option<bool> Quiet = new("--quiet", "-q")
    {
        Description = "log errors only",
        Recursive = true,
    };

    /// <summary>
    /// Sets <paramref name="command"/>'s action: builds the logger factory from the global options
    /// (<paramref name="defaultLevel"/> when neither is given) and runs <paramref name="main"/>.
    /// </summary>
    public static void SetMain(this Command command, Func<ParseResult, ILoggerFactory, int> main, LogLevel defaultLevel = LogLevel.Warning)
    {
        command.SetAction(result =>
        {
            var level = result.GetValue(Verbose) ? LogLevel.Debug
                      : result.GetValue(Quiet) ? LogLevel.Error
                      : defaultLevel;
            using var logging = Logging.Create(level);
            return main(result, logging);
        });
    }
}
