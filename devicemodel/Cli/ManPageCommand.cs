using System.CommandLine;
using System.CommandLine.Help;
using System.Text;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>xen-vnvdimm man-page</c> (build aid): writes xen-vnvdimm(8) in roff from the same command
/// definitions <c>--help</c> prints, so the two cannot drift apart. scripts/package runs it.
/// </summary>
internal static class ManPageCommand
{
    public static Command Create()
    {
        var command = new Command("man-page", "build aid: write the xen-vnvdimm(8) manual page (roff) on stdout");
        command.SetAction(_ =>
        {
            Console.Out.Write(Render(CommandTable.Root));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The manual page for <paramref name="root"/>.</summary>
    public static string Render(RootCommand root)
    {
        var w = new StringBuilder();
        w.AppendLine(".TH XEN-VNVDIMM 8 \"\" \"xen-vnvdimm\" \"System Administration\"");
        w.AppendLine(".SH NAME");
        w.AppendLine("xen-vnvdimm \\- virtual NVDIMMs for Xen HVM guests, served from dom0");
        w.AppendLine(".SH SYNOPSIS");
        w.AppendLine(".B xen-vnvdimm");
        w.AppendLine(".I COMMAND");
        w.AppendLine("[\\fIoptions\\fR]");
        w.AppendLine(".br");
        w.AppendLine(".B xen-vnvdimm");
        w.AppendLine(".I COMMAND");
        w.AppendLine(".B \\-\\-help");
        w.AppendLine(".SH DESCRIPTION");
        w.AppendLine(Escape("xen-vnvdimm runs in dom0 beside each HVM guest that has virtual NVDIMMs: it builds the guest's " +
            "NFIT and SSDT from the guest's config (tables), maps the backing files' frames into the guest and serves the " +
            "guest's _DSM and label calls (run), and takes hot-adds (hot-add). Every command prints its options with " +
            "--help; global options are accepted before or after the command name."));
        w.AppendLine(".SH GLOBAL OPTIONS");
        foreach (var o in root.Options.Where(o => o.Recursive && !o.Hidden))
            Option(w, o);
        w.AppendLine(".TP");
        w.AppendLine("\\fB\\-h\\fR, \\fB\\-\\-help\\fR");
        w.AppendLine("show the help of the command");
        w.AppendLine(".SH COMMANDS");
        foreach (var c in root.Subcommands.Where(c => !c.Hidden).OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            w.Append(".SS ").AppendLine(c.Name);
            w.AppendLine(Escape(c.Description ?? ""));
            foreach (var a in c.Arguments.Where(a => !a.Hidden))
            {
                w.AppendLine(".TP");
                w.Append("\\fI").Append(Escape(a.Name)).AppendLine("\\fR");
                w.AppendLine(Escape(a.Description ?? ""));
            }
            foreach (var o in c.Options.Where(o => !o.Hidden && !o.Recursive && o is not HelpOption))
                Option(w, o);
        }
        w.AppendLine(".SH EXIT STATUS");
        w.AppendLine(".TP\n0\nok");
        w.AppendLine(".TP\n1\nrefused or failed: a refused backing, a hot-add error, a core that does not match, a fault while serving");
        w.AppendLine(".TP\n2\nusage or configuration error: bad arguments, a bad config file, a missing or unusable file");
        w.AppendLine(".SH ENVIRONMENT");
        Entry(w, "XEN_VNVDIMM_LOG", "Trace, Debug, Information, Warning or Error: the log level, overriding \\-v and \\-\\-quiet " +
            "(defaults: Information for run, Warning for the other commands).");
        Entry(w, "JOURNAL_STREAM", "set by systemd: log lines carry a syslog priority prefix (<3> for the final error) instead of a timestamp.");
        Entry(w, "XENSTORED_PATH", "the xenstored socket (default: as libxenstore finds it).");
        Entry(w, "XEN_VNVDIMM_STATE_DIR", "where run keeps its state files (default /run/xen-vnvdimm).");
        Entry(w, "XEN_VNVDIMM_GUEST_RUN", "the qemu platform's guest harness (default: found beside the program, /usr/lib/xen-vnvdimm/guest/run when installed).");
        w.AppendLine(".SH FILES");
        Entry(w, "/usr/lib/xen-vnvdimm/qemu-dm", "the device-model wrapper named by a guest's device_model_override.");
        Entry(w, "/run/xen-vnvdimm", "per-guest runtime files.");
        Entry(w, "/var/lib/xen-vnvdimm", "persistent state.");
        Entry(w, "/usr/share/doc/xen-vnvdimm/examples/", "an example guest config.");
        w.AppendLine(".SH SEE ALSO");
        w.AppendLine(".BR xl (1),");
        w.AppendLine(".BR xl.cfg (5),");
        w.AppendLine(".BR ndctl (1)");
        return w.ToString();
    }

    private static void Option(StringBuilder w, Option o)
    {
        w.AppendLine(".TP");
        var names = o.Aliases.OrderBy(a => a.Length).Append(o.Name).Select(n => $"\\fB{Escape(n)}\\fR");
        w.Append(string.Join(", ", names));
        if (o.ValueType != typeof(bool))
            w.Append(" \\fI").Append(Escape(o.HelpName ?? "VALUE")).Append("\\fR");
        w.AppendLine();
        string text = o.Description ?? "";
        if (o.Required)
            text += " (required)";
        else if (CommandTable.DefaultText(o) is { } value)
            text += $" [default: {value}]";
        w.AppendLine(Escape(text));
    }

    private static void Entry(StringBuilder w, string name, string text)
    {
        w.AppendLine(".TP");
        w.Append("\\fB").Append(Escape(name)).AppendLine("\\fR");
        w.AppendLine(text.StartsWith('.') ? "\\&" + text : text);
    }

    // roff: backslashes and hyphens escaped, no line may start with a control character.
    private static string Escape(string text)
    {
        string s = text.Replace("\\", "\\e").Replace("-", "\\-").Replace("\n", "\n.br\n");
        return s.StartsWith('.') || s.StartsWith('\'') ? "\\&" + s : s;
    }
}
