using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// The command line: <c>xen-vnvdimm COMMAND [options]</c> on System.CommandLine, one file per
/// command under Cli/. Every outcome is an exit status of <see cref="ExitCodes"/> with at most one
/// error line on stderr: parse errors name the offending token (and the closest valid one),
/// exceptions are caught here and never reach the runtime (no stack trace, no abort).
/// </summary>
internal static class CommandTable
{
    /// <summary>Exit code for user errors (bad config, bad arguments).</summary>
    public const int UserError = ExitCodes.UserError;

    /// <summary>Program name in help and error lines.</summary>
    public const string Program = "xen-vnvdimm";

    private static readonly Lazy<RootCommand> s_root = new(Build);

    /// <summary>The command tree (built once; parsing is reentrant).</summary>
    public static RootCommand Root => s_root.Value;

    /// <summary>Text after every command list: exit statuses and environment.</summary>
    public const string Epilogue =
        "Exit status: 0 ok; 1 refused or failed (a refused backing, a hot-add error, a mismatch, a fault while serving);\n" +
        "2 usage or configuration error (bad arguments, a bad config file, a missing or unusable file).\n" +
        "Environment: XEN_VNVDIMM_LOG=Trace|Debug|Information|Warning|Error overrides the log level;\n" +
        "XENSTORED_PATH names the xenstored socket; XEN_VNVDIMM_STATE_DIR run's state files (/run/xen-vnvdimm);\n" +
        "XEN_VNVDIMM_GUEST_RUN the qemu platform's guest harness; " +
        "JOURNAL_STREAM (set by systemd) selects journal-format logs.";

    private static RootCommand Build()
    {
        var root = new RootCommand("xen-vnvdimm: virtual NVDIMMs for Xen HVM guests, served from dom0.\n\n" + Epilogue)
        {
            GlobalOptions.Verbose,
            GlobalOptions.Quiet,
            AbiCommand.Create(),
            GcCommand.Create(),
            HostScanCommand.Create(),
            HotAddCommandLine.Create(),
            InspectCommand.Create(),
            LabelTortureCommand.Create(),
            RunCommand.Create(),
            TablesCommand.Create(),
            VerifyCommand.Create(),
            XenstoredCommand.Create(),
            HelpCommand.Create(),
            ManPageCommand.Create(),
        };
        return root;
    }

    /// <summary>Runs the command line <paramref name="argv"/>; the program's only entry point.</summary>
    public static int Dispatch(string[] argv)
    {
        string where = Program;
        try
        {
            // No @response files: a config path or device spec may start with '@'.
            var result = Root.Parse(argv, new ParserConfiguration { ResponseFileTokenReplacer = null });
            if (result.CommandResult.Command is { } c && c != Root)
                where = $"{Program} {c.Name}";
            if (argv.Length == 0)
            {
                Help(Root, Console.Out);
                return UserError;
            }
            if (result.Action is not HelpAction && result.Errors.Count > 0)
            {
                Logging.Fatal($"{where}: error: {Describe(result)} (try '{where} --help')");
                return UserError;
            }
            return result.Invoke(new InvocationConfiguration
            {
                EnableDefaultExceptionHandler = false,
                Output = Console.Out,
                Error = Console.Error,
                ProcessTerminationTimeout = null,
            });
        }
        catch (UserErrorException e)
        {
            Logging.Fatal($"{where}: error: {OneLine(e.Message)}");
            return UserError;
        }
        catch (Exception e)
        {
            // A failure we did not foresee: still one line, and the exception type says where to look.
            Logging.Fatal($"{where}: error: {OneLine(e.Message)} ({e.GetType().Name})");
            return ExitCodes.Failed;
        }
    }

    /// <summary>Writes <paramref name="command"/>'s help.</summary>
    public static void Help(Command command, TextWriter w)
    {
        var path = new List<string>();
        for (Command? c = command; c is not null && c != Root; c = c.Parents.OfType<Command>().FirstOrDefault())
            path.Insert(0, c.Name);
        path.Add("--help");
        Root.Parse(path).Invoke(new InvocationConfiguration { Output = w, Error = w });
    }

    /// <summary>The default value <c>--help</c> shows for <paramref name="option"/>, or null.</summary>
    public static string? DefaultText(Option option) =>
        // Every defaulted option here takes a string, validated by its command, so errors can name it.
        option is Option<string> { DefaultValueFactory: { } factory } ? factory(null!) : null;

    private static string Describe(ParseResult result)
    {
        var command = result.CommandResult.Command;
        if (result.UnmatchedTokens.Count > 0)
        {
            string token = result.UnmatchedTokens[0];
            bool isOption = token.StartsWith('-');
            var candidates = isOption
                ? OptionNames(command)
                : command.Subcommands.Where(s => !s.Hidden).Select(s => s.Name);
            string what = isOption ? "option" : command == Root ? "command" : "argument";
            string text = $"unknown {what} '{token}'";
            if (Suggestions.Closest(token, candidates) is { } near)
                text += $"; did you mean '{near}'?";
            return text;
        }
        foreach (var error in result.Errors)
        {
            if (error.SymbolResult is OptionResult { Tokens.Count: 0, IdentifierTokenCount: > 0 } o && o.Option.ValueType != typeof(bool))
                return $"option {o.Option.Name} needs a value";
        }
        // A missing required option: say it in our words, as the commands' own checks do.
        if (command.Options.FirstOrDefault(o => o.Required && result.GetResult(o) is not { IdentifierTokenCount: > 0 }) is { } missing)
            return $"missing required option {missing.Name}";
        return OneLine(result.Errors[0].Message);
    }

    /// <summary>Every name and alias of every option <paramref name="command"/> accepts, global ones included.</summary>
    public static IEnumerable<string> OptionNames(Command command) =>
        AcceptedOptions(command).SelectMany(o => o.Aliases.Prepend(o.Name));

    /// <summary>The options <paramref name="command"/> accepts: its own and the recursive ones of its ancestors.</summary>
    public static IEnumerable<Option> AcceptedOptions(Command command)
    {
        var own = command.Options.ToList();
        var inherited = new List<Option>();
        for (var p = command.Parents.OfType<Command>().FirstOrDefault(); p is not null; p = p.Parents.OfType<Command>().FirstOrDefault())
            inherited.AddRange(p.Options.Where(o => o.Recursive));
        return own.Concat(inherited).Distinct();
    }

    private static string OneLine(string message) => string.Join(' ', message.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
