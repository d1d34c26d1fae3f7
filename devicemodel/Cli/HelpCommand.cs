using System.CommandLine;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary><c>xen-vnvdimm help [COMMAND]</c>: the same text as <c>COMMAND --help</c>.</summary>
internal static class HelpCommand
{
    public static Command Create()
    {
        var name = new Argument<string?>("COMMAND") { Description = "the command to describe", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("help", "show help for a command (same as COMMAND --help)") { name };
        command.SetAction(r =>
        {
            string? wanted = r.GetValue(name);
            if (wanted is null)
            {
                CommandTable.Help(CommandTable.Root, Console.Out);
                return ExitCodes.Ok;
            }
            var target = CommandTable.Root.Subcommands.FirstOrDefault(c => c.Name == wanted)
                ?? throw new UserErrorException($"unknown command '{wanted}'" +
                    (Suggestions.Closest(wanted, CommandTable.Root.Subcommands.Select(c => c.Name)) is { } near ? $"; did you mean '{near}'?" : ""));
            CommandTable.Help(target, Console.Out);
            return ExitCodes.Ok;
        });
        return command;
    }
}
