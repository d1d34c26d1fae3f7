using System.CommandLine;
using System.Text;
using System.Text.RegularExpressions;
using XenVnvdimm.DeviceModel.Cli;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// No input may end the program with a stack trace or an abort: thousands of generated argument
/// vectors (built from the commands' own option lists, with typos, bad values, hostile paths) and
/// generated or mutated config files each end with exit status 0, 1 or 2 and at most one error line.
/// Runs in process through <see cref="CommandTable.Dispatch"/> (Program.cs's only call), where an
/// escaping exception is the abort; a sample also runs as the built program, which must agree.
/// Seeds are fixed (override with CLI_FUZZ_SEED) so a failure names a reproducible argument vector.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class CliFuzzTests : IDisposable
{
    private const int Vectors = 3000, Configs = 1500, ProcessSample = 40;
    private static readonly Regex s_logLine = new(@"^(\d{4}-\d\d-\d\dT\S+ (trce|dbug|info|warn|fail|crit): |<\d>)");
    private readonly TempDir _d = new("xvnd-fuzz-");
    private readonly int _seed = int.TryParse(Environment.GetEnvironmentVariable("CLI_FUZZ_SEED"), out int s) ? s : 15;
    private readonly string[] _values;
    private readonly string _backing, _backing2;

    public CliFuzzTests()
    {
        _backing = _d.Filled("a.img", 4 << 20);
        _backing2 = _d.Sparse("b.img", 64 << 20);
        Directory.CreateDirectory(_d.File("dir"));
        File.WriteAllText(_d.File("valid.cfg"), $"vnvdimms = [ 'backend={_backing}, label_size=0' ]\n");
        File.WriteAllText(_d.File("zero.cfg"), "vnvdimms = [ ]\nvnvdimm_slots = 2\n");
        File.WriteAllText(_d.File("dirbackend.cfg"), $"vnvdimms = [ 'backend={_d.File("dir")}' ]\n");
        File.WriteAllText(_d.File("junk"), "not a core, not an NFIT\n");
        var t = InProcessCli.Run(["tables", "--config", _d.File("valid.cfg"), "--out", _d.File("tables")]);
        Assert.True(t.ExitCode == 0, t.ToString());
        _values =
        [
            _d.File("valid.cfg"), _d.File("zero.cfg"), _d.File("dirbackend.cfg"), _d.File("dir"), _d.File("junk"),
            _d.File("tables/NFIT.bin"), _d.File("tables/SSDT.aml"), _backing, _backing2, _d.File("missing"),
            _d.File("out"), _d.File("junk/below"), "/proc/xv", "/proc/self/status/x", "/proc/self/status", "/dev/null",
            "", " ", "-", "--", "-1", "0", "1", "7", "4096", "65535", "32752", "99999999999999999999", "0x1000",
            "0x100000000", "0xZZ", "1e3", "abc", "xen", "sim", "kvm", "QEMU", "qemu ", "ü", "a\nb", "x\0y", "@" + _d.File("valid.cfg"),
            $"backend={_backing}, label_size=0", "backend=", "label_size=64K", new string('x', 5000), "../../../../etc/passwd",
        ];
    }

    public void Dispose() => _d.Dispose();

    [Fact]
    public void ThousandsOfArgumentVectorsEachEndWithAStatusAndAtMostOneErrorLine()
    {
        var rng = new Random(_seed);
        var statuses = new int[3];
        for (int i = 0; i < Vectors; i++)
        {
            string[] argv = Vector(rng);
            var r = InProcessCli.Run(argv);
            AssertWellBehaved(argv, r);
            statuses[r.ExitCode]++;
        }
        // The generator must reach every outcome, or it is not exploring.
        Assert.All(statuses, n => Assert.True(n > 0, $"statuses 0/1/2: {string.Join("/", statuses)}"));
    }

    [Fact]
    public void ThousandsOfConfigFilesAreBuiltOrRefusedInOneLine()
    {
        var rng = new Random(_seed + 1);
        int built = 0, refused = 0;
        for (int i = 0; i < Configs; i++)
        {
            string text = i % 2 == 0 ? GeneratedConfig(rng) : Mutate(rng, GeneratedConfig(rng));
            string cfg = _d.File($"c{i}.cfg"), outDir = _d.File($"o{i}");
            File.WriteAllText(cfg, text);
            string[] argv = ["tables", "--config", cfg, "--out", outDir, "--platform", i % 4 < 2 ? "xen" : "qemu"];
            var r = InProcessCli.Run(argv);
            AssertWellBehaved(argv, r);
            string why = $"config:\n{text}\n{r}";
            Assert.True(r.ExitCode is 0 or 2, $"a config is built (0) or refused (2), never 1: {why}");
            if (r.ExitCode == 0)
            {
                built++;
                Assert.True(File.Exists(Path.Combine(outDir, "acpi_firmware.bin")), why);
            }
            else
            {
                refused++;
                string line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => !s_logLine.IsMatch(l));
                Assert.StartsWith("xen-vnvdimm tables: error: ", line);
                Assert.False(Directory.Exists(outDir), $"a refused config wrote {outDir}: {why}");
            }
            File.Delete(cfg);
            if (Directory.Exists(outDir))
                Directory.Delete(outDir, true);
        }
        Assert.True(built > Configs / 20 && refused > Configs / 20, $"built {built}, refused {refused}: the generator is not exploring");
    }

    [Fact]
    public void TheBuiltProgramAgreesWithTheInProcessRun()
    {
        // The in-process run is only a stand-in for the program if both give the same status.
        var rng = new Random(_seed + 2);
        string dll = Path.Combine(AppContext.BaseDirectory, "xen-vnvdimm.dll");
        for (int i = 0; i < ProcessSample; i++)
        {
            string[] argv = Vector(rng);
            if (argv.Any(a => a.Contains('\0')))
                continue; // a process argument cannot hold NUL
            var inside = InProcessCli.Run(argv);
            var outside = ProcessRunner.Run("dotnet", [dll, .. argv], timeoutSeconds: 60);
            AssertWellBehaved(argv, outside);
            Assert.True(inside.ExitCode == outside.ExitCode,
                $"xen-vnvdimm {InProcessCli.Show(argv)}: in process {inside.ExitCode}, as a program {outside.ExitCode}\n{outside}");
        }
    }

    private static void AssertWellBehaved(string[] argv, ProcessResult r)
    {
        string what = $"xen-vnvdimm {InProcessCli.Show(argv)}\n{r}";
        Assert.True(r.ExitCode is 0 or 1 or 2, $"exit status {r.ExitCode}: {what}");
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Unhandled exception", r.Stderr);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Count(l => l.Contains(": error: ")) <= 1, $"more than one error line: {what}");
        Assert.True(lines.Count(l => !s_logLine.IsMatch(l)) <= 2, $"more than a few non-log lines on stderr: {what}");
        if (r.ExitCode == 2 && argv.Length > 0 && !argv.All(a => a is "-v" or "--verbose" or "-q" or "--quiet"))
            Assert.True(lines.Count(l => l.Contains(": error: ")) == 1, $"a usage error must say why in one line: {what}");
    }

    private string[] Vector(Random rng)
    {
        var root = CommandTable.Root;
        var commands = root.Subcommands.Where(c => c.Name != "label-torture").ToList();
        var argv = new List<string>();
        Command? command = null;
        switch (rng.Next(20))
        {
            case 0: argv.Add(Typo(rng, commands[rng.Next(commands.Count)].Name)); break;
            case 1: argv.Add(_values[rng.Next(_values.Length)]); break;
            case 2: break;
            default:
                command = commands[rng.Next(commands.Count)];
                argv.Add(command.Name);
                break;
        }
        var options = CommandTable.AcceptedOptions(command ?? root).ToList();
        int n = rng.Next(9);
        for (int i = 0; i < n; i++)
        {
            int k = rng.Next(100);
            string name = options.Count > 0 ? options[rng.Next(options.Count)].Name : "--help";
            if (name is "--help" && rng.Next(4) != 0)
                name = "--config";
            string value = Value(rng, command);
            if (k < 40)
                argv.Add(name);
            else if (k < 45)
                argv.Add(Typo(rng, name));
            else if (k < 55)
                argv.Add($"{name}={value}");
            else if (k < 58)
                argv.Insert(rng.Next(argv.Count + 1), rng.Next(2) == 0 ? "-v" : "--quiet");
            else
                argv.Add(value);
        }
        // A well-formed core of the command half the time, so the fuzz reaches past the parser.
        if (command is not null && rng.Next(2) == 0)
            argv.InsertRange(1, WellFormed(rng, command.Name));
        // Always a socket that cannot bind (a second --socket is a usage error): a listening xenstored never returns.
        if (command?.Name == "xenstored")
            argv.AddRange(["--socket", "/proc/xv-no/sock"]);
        return [.. argv];
    }

    private string[] WellFormed(Random rng, string command) => command switch
    {
        "tables" => ["--config", _d.File(RandomConfig(rng)), "--out", _d.File($"out{rng.Next(4)}")],
        "verify" => ["--core", _d.File("junk"), "--config", _d.File("valid.cfg")],
        "inspect" => [_backing, "--assume-spa-base", "0x100000000"],
        "run" => ["--platform", "sim", "--domid", "5", "--config", _d.File("valid.cfg")],
        "hot-add" => ["--domid", "5", "--timeout", "1"],
        "abi" => ["--json"],
        "host-scan" => ["--sysfs", _d.File("dir")],
        "xenstored" => ["--quota-watches", "5"],
        _ => [],
    };

    private static string RandomConfig(Random rng) => new[] { "valid.cfg", "zero.cfg", "dirbackend.cfg", "junk", "missing" }[rng.Next(5)];

    private string Value(Random rng, Command? command)
    {
        string v = _values[rng.Next(_values.Length)];
        // Values that would start a real guest or a server are left out: qemu boots a VM, a bindable
        // path makes xenstored serve forever.
        if (command?.Name == "run" && v == "qemu")
            return "kvm";
        if (command?.Name == "xenstored" && !v.StartsWith("/proc/", StringComparison.Ordinal))
            return "/proc/xv-no/" + v.Replace('/', '_');
        return v;
    }

    private static string Typo(Random rng, string word)
    {
        var b = new StringBuilder(word);
        int at = rng.Next(Math.Max(1, b.Length));
        switch (rng.Next(3))
        {
            case 0 when b.Length > 2: b.Remove(at, 1); break;
            case 1: b.Insert(at, (char)('a' + rng.Next(26))); break;
            default: if (b.Length > 0) b[at] = (char)('a' + rng.Next(26)); break;
        }
        return b.ToString();
    }

    private string GeneratedConfig(Random rng)
    {
        string[] keys = ["vnvdimms", "vnvdimms", "vnvdimms", "vnvdimm_base", "dsm_mailbox", "dsm_port", "event_irq", "vnvdimm_slots",
            "vnvdimm_persistence", "name", "memory", "maxmem", "vnvdimm", "vnvdims", "dsm_prot", "builder"];
        string[] scalars = ["0", "1", "2", "15", "64", "65", "0x100000000", "0xFE000000", "0xFFFFFFFFFF000000", "4G", "2M", "-1",
            "99999999999999999999", "'cpu'", "'mem-ctrl'", "'none'", "\"hvm\"", "'x", "none", "0x", "1024", "[ ]", "[", "]"];
        var sb = new StringBuilder();
        int lines = rng.Next(6);
        for (int i = 0; i < lines; i++)
        {
            string key = keys[rng.Next(keys.Length)];
            sb.Append(key).Append(rng.Next(5) == 0 ? "=" : " = ");
            if (key.StartsWith("vnvdimm", StringComparison.Ordinal) && rng.Next(3) != 0 && !key.Contains('_'))
            {
                int devices = rng.Next(4);
                sb.Append("[ ");
                for (int j = 0; j < devices; j++)
                {
                    sb.Append(rng.Next(2) == 0 ? '\'' : '"').Append(Spec(rng)).Append(rng.Next(15) == 0 ? "" : "'");
                    sb.Append(j + 1 < devices ? ", " : " ");
                }
                sb.Append(rng.Next(15) == 0 ? "" : "]");
            }
            else
                sb.Append(scalars[rng.Next(scalars.Length)]);
            sb.Append(rng.Next(8) == 0 ? "  # comment\n" : "\n");
        }
        return sb.ToString().Replace("\"'", "\"\"").Replace("'\"", "''");
    }

    private string Spec(Random rng)
    {
        string[] backends = [_backing, _backing, _backing2, _d.File("dir"), _d.File("missing"), "/dev/null", "", "/proc/self/status"];
        string[] keys = ["size", "label_size", "slot", "node", "serial", "unarmed", "align", "label", "colour", "backend"];
        string[] values = ["0", "2M", "3M", "4M", "64M", "1G", "128K", "64K", "0x200000", "-1", "63", "64", "1", "yes", "0xabc", "", "4K", "8K",
            _d.File("l.label"), "99999999999999999999G"];
        var parts = new List<string>();
        if (rng.Next(10) != 0)
            parts.Add($"backend={backends[rng.Next(backends.Length)]}");
        int n = rng.Next(4);
        for (int i = 0; i < n; i++)
            parts.Add($"{keys[rng.Next(keys.Length)]}={values[rng.Next(values.Length)]}");
        return string.Join(rng.Next(6) == 0 ? "," : ", ", parts);
    }

    private static string Mutate(Random rng, string text)
    {
        var b = new StringBuilder(text.Length == 0 ? "vnvdimms = [ ]" : text);
        const string alphabet = "'\"[],=#\n\\ \0xM0vnd_";
        int edits = 1 + rng.Next(4);
        for (int i = 0; i < edits && b.Length > 0; i++)
        {
            int at = rng.Next(b.Length);
            switch (rng.Next(3))
            {
                case 0: b.Remove(at, 1); break;
                case 1: b.Insert(at, alphabet[rng.Next(alphabet.Length)]); break;
                default: b[at] = alphabet[rng.Next(alphabet.Length)]; break;
            }
        }
        return b.ToString();
    }
}
