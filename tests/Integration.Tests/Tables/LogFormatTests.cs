namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// Logs go to stderr through Microsoft.Extensions.Logging: one line per entry with a timestamp on a
/// console, and the systemd journal's format (a <c>&lt;N&gt;</c> syslog priority prefix, no colour,
/// no timestamp: journald adds its own) when systemd started us (JOURNAL_STREAM is set).
/// </summary>
public class LogFormatTests
{
    [Fact]
    public void ConsoleLinesAreTimestampedAndJournalLinesCarryTheSyslogPriority()
    {
        using var d = new TempDir();
        string backing = d.Sparse("a.img", 16 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"name = \"g\"\nvnvdimms = [ 'backend={backing}, label_size=0' ]\n");
        string dll = Path.Combine(AppContext.BaseDirectory, "xen-vnvdimm.dll");
        string[] args = [dll, "tables", "--config", d.File("vm.cfg"), "--out", d.File("t"), "--platform", "xen"];

        var console = ProcessRunner.Run("dotnet", args, envs: [("XEN_VNVDIMM_LOG", "Debug")]);
        Assert.True(console.ExitCode == 0, console.ToString());
        Assert.Empty(console.Stdout.Trim());
        // "2026-12-04T17:15:37.123Z info: tables: wrote 1 devices ..." (ISO 8601, UTC) and the debug line
        // for the ignored key; no event ids ("[0]") anywhere.
        const string Iso = @"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z";
        Assert.Matches($@"(?m)^{Iso} info: tables: wrote 1 devices", console.Stderr);
        Assert.Matches($@"(?m)^{Iso} dbug: tables: ignoring setting 'name'", console.Stderr);
        Assert.DoesNotContain("[0]", console.Stderr);
        var stamp = System.Text.RegularExpressions.Regex.Match(console.Stderr, Iso).Value;
        Assert.InRange(DateTime.Parse(stamp, null, System.Globalization.DateTimeStyles.RoundtripKind), DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(1));

        var journal = ProcessRunner.Run("dotnet", args, envs: [("XEN_VNVDIMM_LOG", "Debug"), ("JOURNAL_STREAM", "8:12345")]);
        Assert.True(journal.ExitCode == 0, journal.ToString());
        // syslog priorities: 6 informational, 7 debug
        Assert.Matches(@"(?m)^<6>tables: wrote 1 devices", journal.Stderr);
        Assert.Matches(@"(?m)^<7>tables: ignoring setting 'name'", journal.Stderr);
        Assert.DoesNotContain("[0]", journal.Stderr);
        Assert.DoesNotContain("\x1b[", journal.Stderr);

        // A user error is still one line on stderr with exit status 2, under either format.
        var bad = ProcessRunner.Run("dotnet", [dll, "tables", "--config", d.File("missing.cfg"), "--out", d.File("t2")], envs: [("JOURNAL_STREAM", "8:12345")]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Single(bad.Stderr.Trim().Split('\n'));
        Assert.Contains("missing.cfg", bad.Stderr);
        // ... and under the journal it is the program's fatal error: priority err (3).
        Assert.StartsWith("<3>xen-vnvdimm tables: error: ", bad.Stderr);
        var plain = ProcessRunner.Run("dotnet", [dll, "tables", "--config", d.File("missing.cfg"), "--out", d.File("t2")]);
        Assert.Equal(2, plain.ExitCode);
        Assert.StartsWith("xen-vnvdimm tables: error: ", plain.Stderr);
    }
}
