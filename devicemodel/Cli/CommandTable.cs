using Microsoft.Extensions.Logging;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>Dispatches <c>xen-vnvdimm COMMAND ...</c> to one class per command.</summary>
internal static class CommandTable
{
    /// <summary>Exit code for user errors (bad config, bad arguments).</summary>
    public const int UserError = 2;

    private delegate int CommandMain(CommandArgs args, ILoggerFactory logging);

    // One line per command; each command lives in its own file under Cli/.
    private static readonly Dictionary<string, (CommandMain Main, string Summary)> s_commands = new()
    {
        ["abi"] = (AbiCommand.Run, "print the Xen structures and constants this program marshals (--json)"),
        ["gc"] = (GcCommand.Run, "drop the frame claims (and pins) of domains that are gone (--platform xen|sim, --claims-dir DIR)"),
        ["inspect"] = (InspectCommand.Run, "resolve a backing into its machine-frame runs, and every refusal (--json)"),
        ["host-scan"] = (HostScanCommand.Run, "list the host's pmem SPA ranges from NFIT, E820 and the nd bus, cross-checked (--json)"),
        ["label-torture"] = (LabelTortureCommand.Run, "test aid: crash-safety torture of a label file (killed by the test)"),
        ["run"] = (RunCommand.Run, "serve a guest's vNVDIMMs (--platform xen|sim --domid N, or --platform qemu to boot one)"),
        ["verify"] = (VerifyCommand.Run, "check a guest core dump against the vNVDIMM backing files (--core CORE --config FILE)"),
        ["hot-add"] = (HotAddCommandLine.Run, "add a vNVDIMM to a running guest through its companion (--domid N SPEC)"),
        ["tables"] = (TablesCommand.Run, "build NFIT/SSDT for a config, or decode an NFIT"),
        ["xenstored"] = (XenstoredCommand.Run, "run the embedded xenstored on a Unix socket (--socket PATH [--dump FILE])"),
    };

    public static int Dispatch(string[] argv)
    {
        if (argv.Length == 0 || argv[0] is "-h" or "--help" or "help")
        {
            PrintUsage(Console.Out);
            return argv.Length == 0 ? UserError : 0;
        }

        if (!s_commands.TryGetValue(argv[0], out var command))
        {
            Console.Error.WriteLine($"xen-vnvdimm: error: unknown command '{argv[0]}' (try --help)");
            return UserError;
        }

        using var logging = Logging.Create(argv);
        try
        {
            return command.Main(new CommandArgs(argv[0], argv.AsSpan(1).ToArray()), logging);
        }
        catch (UserErrorException e)
        {
            Console.Error.WriteLine($"xen-vnvdimm {argv[0]}: error: {e.Message}");
            return UserError;
        }
    }

    private static void PrintUsage(TextWriter w)
    {
        w.WriteLine("usage: xen-vnvdimm COMMAND [options]   (global: -v/--verbose, --quiet)");
        foreach (var (name, c) in s_commands.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            w.WriteLine($"  {name,-12} {c.Summary}");
    }
}
