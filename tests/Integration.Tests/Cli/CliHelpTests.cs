using System.CommandLine;
using XenVnvdimm.DeviceModel.Cli;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// Every command has help: <c>COMMAND --help</c> (and <c>help COMMAND</c>) exits 0 and names every
/// option the command accepts, as its definition lists them; the manual page generated from the
/// same definitions names them too, with the same defaults; the global options work anywhere.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class CliHelpTests
{
    public static TheoryData<string> Commands()
    {
        var data = new TheoryData<string>();
        foreach (var c in CommandTable.Root.Subcommands)
            data.Add(c.Name);
        return data;
    }

    private static Command Named(string name) => CommandTable.Root.Subcommands.Single(c => c.Name == name);

    [Theory]
    [MemberData(nameof(Commands))]
    public void HelpExitsZeroAndNamesEveryOption(string name)
    {
        var command = Named(name);
        var options = CommandTable.AcceptedOptions(command).ToList();
        Assert.Contains(options, o => o.Name == "--verbose");
        foreach (var argv in new[] { new[] { name, "--help" }, ["help", name], [name, "-h"], ["-v", name, "--help"] })
        {
            var r = InProcessCli.Run(argv);
            Assert.True(r.ExitCode == 0, $"{InProcessCli.Show(argv)}: {r}");
            Assert.Empty(r.Stderr);
            foreach (var o in options)
            {
                // The help option's Windows spellings (/h, /?) are accepted but not shown.
                foreach (string alias in o.Aliases.Prepend(o.Name).Where(a => !a.StartsWith('/')))
                    Assert.Contains(alias, r.Stdout);
                if (o.Description is { } text)
                    Assert.Contains(text, r.Stdout);
                if (CommandTable.DefaultText(o) is { } value)
                    Assert.Contains($"[default: {value}]", r.Stdout);
            }
            foreach (var a in command.Arguments)
                Assert.Contains(a.Name, r.Stdout);
        }
    }

    [Fact]
    public void TheManualPageNamesEveryOptionOfEveryVisibleCommandWithItsDefault()
    {
        var r = InProcessCli.Run(["man-page"]);
        Assert.Equal(0, r.ExitCode);
        string man = r.Stdout.Replace("\\-", "-").Replace("\\e", "\\");
        Assert.StartsWith(".TH XEN-VNVDIMM 8", man);
        foreach (var c in CommandTable.Root.Subcommands.Where(c => !c.Hidden))
        {
            Assert.Contains($".SS {c.Name}\n", man);
            foreach (var o in c.Options.Where(o => !o.Recursive))
            {
                Assert.Contains($"\\fB{o.Name}\\fR", man);
                if (CommandTable.DefaultText(o) is { } value)
                    Assert.Contains($"[default: {value}]", man);
            }
        }
        foreach (string text in new[] { "--verbose", "--quiet", ".SH EXIT STATUS", "XEN_VNVDIMM_LOG", "JOURNAL_STREAM" })
            Assert.Contains(text, man);
    }

    [Theory]
    [InlineData("-v")]
    [InlineData("--verbose")]
    [InlineData("--quiet")]
    public void GlobalOptionsAreAcceptedBeforeAndAfterTheCommand(string global)
    {
        foreach (var argv in new[] { new[] { global, "tables", "--decode", "/nonexistent-nfit" }, ["tables", global, "--decode", "/nonexistent-nfit"], ["tables", "--decode", "/nonexistent-nfit", global] })
        {
            var r = InProcessCli.Run(argv);
            // Parsed: the error is the command's own (the file), not an unknown option or command.
            Assert.Equal(2, r.ExitCode);
            Assert.StartsWith("xen-vnvdimm tables: error: cannot read '/nonexistent-nfit'", r.Stderr);
        }
    }

    [Theory]
    [InlineData(new[] { "tables", "--confg", "x" }, "xen-vnvdimm tables: error: unknown option '--confg'; did you mean '--config'?")]
    [InlineData(new[] { "tabels", "--config", "x" }, "xen-vnvdimm: error: unknown command 'tabels'; did you mean 'tables'?")]
    [InlineData(new[] { "run", "--config", "x" }, "xen-vnvdimm run: error: missing required option --platform")]
    [InlineData(new[] { "run", "--platform", "kvm", "--config", "x" }, "xen-vnvdimm run: error: --platform 'kvm' must be xen, sim or qemu")]
    [InlineData(new[] { "abi", "--jsno" }, "xen-vnvdimm abi: error: unknown option '--jsno'; did you mean '--json'?")]
    [InlineData(new[] { "help", "tabels" }, "xen-vnvdimm help: error: unknown command 'tabels'; did you mean 'tables'?")]
    public void MistakesAreNamedInOneLine(string[] argv, string expected)
    {
        var r = InProcessCli.Run(argv);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith(expected, r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void NoArgumentsPrintsTheCommandListAndExitsTwo()
    {
        var r = InProcessCli.Run([]);
        Assert.Equal(2, r.ExitCode);
        foreach (var c in CommandTable.Root.Subcommands.Where(c => !c.Hidden))
            Assert.Contains(c.Name, r.Stdout);
        Assert.Contains("Exit status: 0 ok; 1 refused or failed", r.Stdout);
    }

    [Theory]
    [InlineData("README.md")]
    [InlineData("docs/admin-guide.md")]
    public void TheDocumentsNameEveryCommandAndOptionAndLinkNothingOutsideTheRepository(string file)
    {
        string text = File.ReadAllText(Path.Combine(GuestRunner.RepoRoot, file));
        foreach (var c in CommandTable.Root.Subcommands.Where(c => !c.Hidden))
        {
            Assert.Contains($"{c.Name}", text);
            foreach (var o in CommandTable.AcceptedOptions(c).Where(o => o.Name != "--help"))
                Assert.True(text.Contains(o.Name, StringComparison.Ordinal), $"{file} does not mention {c.Name} {o.Name}");
        }
        Assert.Contains("Exit status", text, StringComparison.OrdinalIgnoreCase);
        foreach (System.Text.RegularExpressions.Match link in System.Text.RegularExpressions.Regex.Matches(text, @"\]\(([^)]+)\)|`(\.\./[^`]*)`"))
        {
            string target = link.Groups[1].Success ? link.Groups[1].Value : link.Groups[2].Value;
            Assert.False(target.Contains("://") || target.StartsWith("../"), $"{file} links outside the repository: {target}");
            Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(Path.Combine(GuestRunner.RepoRoot, file))!, target)), $"{file} links to missing {target}");
        }
    }

    [Fact]
    public void TheReadmeStartsWithTheDemoAndTheTests()
    {
        var commands = File.ReadAllLines(Path.Combine(GuestRunner.RepoRoot, "README.md"))
            .Where(l => l.StartsWith("    ", StringComparison.Ordinal) && l.Trim().Length > 0).Select(l => l.Trim()).Take(2);
        Assert.Equal(["scripts/demo", "scripts/test"], commands);
    }
}
