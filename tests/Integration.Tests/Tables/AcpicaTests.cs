using System.Text;
using System.Text.RegularExpressions;
using XenVnvdimm.Acpi.Ssdt;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// ACPICA judges our tables: <c>iasl -d</c> disassembles them with no error or warning, the
/// disassembly recompiles cleanly, and <c>acpiexec</c> loads the SSDT (under a DSDT of revision
/// 1 = 32-bit integers, as QEMU has, and revision 2 = 64-bit, as hvmloader has) and evaluates
/// every method of every device with no AML error; the mailbox reads as zeros there, which is
/// "no device model".
/// </summary>
public class AcpicaTests
{
    public static TheoryData<string, string> Cases() => new()
    {
        { "one", "qemu" }, { "four", "qemu" }, { "sixtyfour", "qemu" },
        { "one", "xen" }, { "four", "xen" }, { "sixtyfour", "xen" },
    };

    private static string Config(string name, TempDir d) => name switch
    {
        "one" => TableConfigs.One(d),
        "four" => TableConfigs.Four(d),
        _ => TableConfigs.SixtyFour(d),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void TablesDisassembleAndRecompileCleanly(string name, string platform)
    {
        using var d = new TempDir();
        string outDir = TableConfigs.Build(d, Config(name, d), platform);
        foreach (string table in new[] { "SSDT.aml", "NFIT.bin" })
        {
            var r = ProcessRunner.Run("iasl", ["-d", table], outDir);
            Assert.True(r.ExitCode == 0, $"iasl -d {table}: {r}");
            Assert.DoesNotMatch(new Regex("(?i)\\b(error|warning)s?\\b(?! *0)"), Strip(r.Stdout + r.Stderr));
        }
        string nfitDsl = File.ReadAllText(Path.Combine(outDir, "NFIT.dsl"));
        Assert.DoesNotContain("**** ", nfitDsl); // iasl marks unknown/invalid subtables with ****
        // The disassembly must compile back without errors or warnings.
        var c = ProcessRunner.Run("iasl", ["-p", "recompiled", "SSDT.dsl"], outDir);
        Assert.True(c.ExitCode == 0, $"iasl SSDT.dsl: {c}");
        Assert.Matches("0 Errors, 0 Warnings", c.Stdout);
    }

    private static string Strip(string iaslBanner) =>
        // iasl's banner says "Compiler/Disassembler"; only diagnostics matter.
        Regex.Replace(iaslBanner, "(?m)^.*(Intel ACPI Component|Copyright|Compiler/Disassembler).*$", "");

    [Theory]
    [MemberData(nameof(Cases))]
    public void AcpiexecEvaluatesEveryMethodWithoutAmlErrors(string name, string platform)
    {
        using var d = new TempDir();
        string outDir = TableConfigs.Build(d, Config(name, d), platform);
        var layout = TableConfigs.Layout(outDir);
        int slots = layout.GetProperty("slots").GetInt32();
        byte[] nfit = File.ReadAllBytes(Path.Combine(outDir, "NFIT.bin"));

        foreach (int revision in new[] { 1, 2 })
        {
            string dsdt = Dsdt(d, revision);
            var commands = new List<string>
            {
                "Evaluate \\_SB.NVDR._FIT",
                $"Evaluate \\_SB.NVDR._DSM {RootUuid} 1 0 [(00)]",
                $"Evaluate \\_SB.NVDR._DSM {RootUuid} 1 1 [(00)]",
                $"Evaluate \\_SB.NVDR._DSM {IntelUuid} 1 0 [(00)]",
            };
            for (int s = 0; s < slots; s++)
            {
                string dev = $"\\_SB.NVDR.NV{s:X2}";
                commands.Add($"Evaluate {dev}._DSM {IntelUuid} 1 0 [(00)]");
                commands.Add($"Evaluate {dev}._DSM {IntelUuid} 1 4 [(00)]");
                commands.Add($"Evaluate {dev}._DSM {IntelUuid} 1 5 [(00 00 00 00 00 01 00 00)]");
                commands.Add($"Evaluate {dev}._DSM {IntelUuid} 1 6 {SetLabelDataArg}");
                commands.Add($"Evaluate {dev}._DSM {RootUuid} 1 0 [(00)]");
                commands.Add($"Evaluate {dev}._LSI");
                commands.Add($"Evaluate {dev}._LSR 0 256");
                commands.Add($"Evaluate {dev}._LSW 0 4 (01 02 03 04)");
            }
            bool hasEvent = layout.GetProperty("event_irq").ValueKind == System.Text.Json.JsonValueKind.Number;
            if (hasEvent)
                commands.Add($"Evaluate \\_SB.XGED._EVT {layout.GetProperty("event_irq").GetInt32()}");
            commands.Add("Evaluate \\WIDT");

            // acpiexec's -b takes at most 1023 characters: feed the commands on stdin instead.
            var r = ProcessRunner.Run("acpiexec", [dsdt, Path.Combine(outDir, "SSDT.aml")], outDir, 600,
                stdin: string.Join("\n", commands) + "\nquit\n");
            string output = r.Stdout + r.Stderr;
            Assert.True(r.ExitCode == 0, $"acpiexec (DSDT revision {revision}): {r}");
            Assert.DoesNotContain("ACPI Error", output);
            Assert.DoesNotContain("ACPI Exception", output);
            Assert.DoesNotContain("failed with status", output);
            Assert.Equal(commands.Count,
                Regex.Matches(output, "Evaluation of .* returned object").Count
                + Regex.Matches(output, "No object was returned from evaluation").Count);
            // The interpreter really ran at the DSDT's integer width.
            Assert.Contains(revision == 1 ? "[Integer] = 00000000FFFFFFFF" : "[Integer] = FFFFFFFFFFFFFFFF", output);
            if (hasEvent)
                Assert.Matches(@"Received a Device Notify on \[NVDR\] .* Value 0x80", output);

            // No device model: _FIT falls back to the boot FIT, which is the NFIT minus its 40-byte header.
            var fit = Regex.Match(output, @"Evaluation of \\_SB.NVDR._FIT returned object .*?\n\s*\[Buffer\] Length ([0-9A-F]+)", RegexOptions.Singleline);
            Assert.True(fit.Success, output[..Math.Min(4000, output.Length)]);
            Assert.Equal(nfit.Length - 40, Convert.ToInt32(fit.Groups[1].Value, 16));
            // Function 0 reports no functions; _LSI reports status 1 (not supported).
            Assert.Matches(@"_LSI returned object[^\[]*\[Package\] Contains 3 Elements:\s*\[Integer\] = 0+1\s", output);
            // Set label data (function 6) with a well-formed Package {Buffer}: a bare u32 status 1 (not supported).
            var setLabel = Segments(output).Where(c => c.Command.Contains(" 1 6 ", StringComparison.Ordinal)).ToList();
            Assert.Equal(slots, setLabel.Count);
            Assert.All(setLabel, c => Assert.Matches(StatusBuffer(1), c.Text));
        }
    }

    /// <summary>
    /// The mailbox holds the serving device model's signature, but nobody answers the doorbell (a
    /// device model that signed the page and then hung or died). A DSDT of the test's own maps the
    /// same mailbox page and doorbell port — acpiexec backs both regions with one simulated buffer —
    /// and writes the signature, so the SSDT's methods post their requests, ring, and poll until
    /// their bounded wait runs out. acpiexec's region log (<c>-vr</c>) counts the polls.
    /// </summary>
    [Theory]
    [InlineData("qemu")]
    [InlineData("xen")]
    public void AcpiexecUnansweredRequestsTimeOutAfterTheBoundedPollAndReturnNotSupported(string platform)
    {
        using var d = new TempDir();
        string outDir = TableConfigs.Build(d, TableConfigs.One(d), platform);
        var layout = TableConfigs.Layout(outDir);
        ulong mailbox = Convert.ToUInt64(layout.GetProperty("mailbox_gpa").GetString(), 16);
        int port = layout.GetProperty("doorbell_port").GetInt32();
        uint handle = layout.GetProperty("devices")[0].GetProperty("handle").GetUInt32();
        byte[] nfit = File.ReadAllBytes(Path.Combine(outDir, "NFIT.bin"));
        string dev = $"\\_SB.NVDR.NV{layout.GetProperty("devices")[0].GetProperty("slot").GetInt32():X2}";

        foreach (int revision in new[] { 1, 2 })
        {
            string dsdt = SigningDsdt(d, revision, mailbox, port);
            string[] commands =
            [
                "Evaluate \\ARMS",
                $"Evaluate {dev}._DSM {IntelUuid} 1 6 {SetLabelDataArg}",
                "Evaluate \\MBOX",
                $"Evaluate {dev}._LSI",
                "Evaluate \\MBOX",
                "Evaluate \\_SB.NVDR._FIT",
                "Evaluate \\MBOX",
            ];
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var r = ProcessRunner.Run("acpiexec", ["-vr", dsdt, Path.Combine(outDir, "SSDT.aml")], outDir, 300,
                stdin: string.Join("\n", commands) + "\nquit\n");
            watch.Stop();
            string output = r.Stdout + r.Stderr;
            Assert.True(r.ExitCode == 0, $"acpiexec (DSDT revision {revision}): {r.ExitCode}\n{output[^Math.Min(4000, output.Length)..]}");
            Assert.DoesNotContain("ACPI Error", output);
            Assert.DoesNotContain("ACPI Exception", output);
            Assert.DoesNotContain("failed with status", output);

            var segments = Segments(output);
            Assert.Equal(commands.Length, segments.Count);
            Assert.Matches($@"\[Integer\] = 0*{Signature:X}\s", segments[0].Text);

            // Every call polled the state SpinPolls + PollIterations times and at most three more
            // (each loop's failing test and the check after them), saw only "request", and gave up.
            string state = $@"Addr 0*{mailbox + MailboxProtocol.StateOffset:X} ";
            foreach (int call in new[] { 1, 3, 5 })
            {
                string text = segments[call].Text;
                var reads = Regex.Matches(text, $@"SystemMemory Read : Val ([0-9A-F]+) {state}");
                Assert.InRange(reads.Count, MailboxProtocol.SpinPolls + MailboxProtocol.PollIterations,
                    MailboxProtocol.SpinPolls + MailboxProtocol.PollIterations + 3);
                Assert.All(reads, m => Assert.Equal(MailboxProtocol.StateRequest, Convert.ToUInt32(m.Groups[1].Value, 16)));
                var writes = Regex.Matches(text, $@"SystemMemory Write: Val ([0-9A-F]+) {state}").Select(m => Convert.ToUInt32(m.Groups[1].Value, 16)).ToArray();
                Assert.Equal([MailboxProtocol.StateRequest, MailboxProtocol.StateIdle], writes);
            }
            // Each Sleep (1) lasts at least a millisecond: the three waits really ran to their limit.
            Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(3 * MailboxProtocol.PollIterations), TimeSpan.FromSeconds(240));

            // Set label data: status 1 (not supported), and the request the AML posted was complete.
            Assert.Matches(StatusBuffer(MailboxProtocol.StatusNotSupported), segments[1].Text);
            var posted = MailboxFields(segments[2].Text);
            Assert.Equal(MailboxProtocol.StateIdle, posted[0]);     // reset after the timeout
            Assert.Equal(MailboxProtocol.CommandDsm, posted[1]);
            Assert.Equal(handle, posted[2]);
            Assert.Equal(1u, posted[3]);                            // revision
            Assert.Equal(6u, posted[4]);                            // function: set label data
            Assert.Equal(12u, posted[5]);                           // input: u32 offset, u32 length, 4 data bytes
            Assert.Equal(MailboxProtocol.FamilyIntel, posted[7]);
            Assert.Equal(1u, posted[8]);                            // the doorbell was rung
            Assert.Matches(@"\[Buffer\] Length 0C = +0000: 00 01 00 00 04 00 00 00 A1 B2 C3 D4", segments[2].Text);

            // _LSI: Package {1 (not supported), 0, 0}.
            Assert.Matches(@"\[Package\] Contains 3 Elements:\s*\[Integer\] = 0+1\s+\[Integer\] = 0+\s+\[Integer\] = 0+\s", segments[3].Text);
            Assert.Equal(MailboxProtocol.CommandLabelInfo, MailboxFields(segments[4].Text)[1]);
            // _FIT: the boot FIT (the NFIT minus its header) after one unanswered chunk read.
            Assert.Matches($@"\[Buffer\] Length {nfit.Length - 40:X2} =", segments[5].Text);
            var fit = MailboxFields(segments[6].Text);
            Assert.Equal(MailboxProtocol.CommandReadFit, fit[1]);
            Assert.Equal(0u, fit[2]);                               // the root device
            Assert.Equal(MailboxProtocol.StateIdle, fit[0]);
        }
    }

    /// <summary>Function 6 input: u32 offset 0x100, u32 length 4, then 4 bytes of label data.</summary>
    private const string SetLabelDataArg = "[(00 01 00 00 04 00 00 00 A1 B2 C3 D4)]";

    private const uint Signature = MailboxProtocol.Signature;

    /// <summary>A Buffer of exactly one little-endian u32 status, as acpiexec prints it.</summary>
    private static string StatusBuffer(uint status) =>
        $@"returned object[^\[]*\[Buffer\] Length 04 = +0000: {status & 0xFF:X2} {(status >> 8) & 0xFF:X2} {(status >> 16) & 0xFF:X2} {status >> 24:X2} ";

    /// <summary>acpiexec's output cut at its echo of each command ("- Evaluate ..."), in order.</summary>
    private static List<(string Command, string Text)> Segments(string output)
    {
        var list = new List<(string, string)>();
        var marks = Regex.Matches(output, @"(?m)^- (?!quit)(.*)$");
        for (int i = 0; i < marks.Count; i++)
        {
            int start = marks[i].Index + marks[i].Length;
            int end = i + 1 < marks.Count ? marks[i + 1].Index : output.Length;
            list.Add((marks[i].Groups[1].Value, output[start..end]));
        }
        return list;
    }

    /// <summary>The integers of \MBOX's package: state, command, handle, revision, function, input length, output length, family, doorbell.</summary>
    private static uint[] MailboxFields(string text)
    {
        var m = Regex.Match(text, @"\[Package\] Contains 10 Elements:((?:\s*\[Integer\] = [0-9A-F]+){9})");
        Assert.True(m.Success, text);
        return Regex.Matches(m.Groups[1].Value, "= ([0-9A-F]+)").Select(x => Convert.ToUInt32(x.Groups[1].Value, 16)).ToArray();
    }

    /// <summary>
    /// A DSDT that maps the mailbox page and doorbell port at the layout's addresses, with the field
    /// offsets <see cref="MailboxProtocol"/> documents: ARMS signs the page as a serving device model
    /// would (and clears the doorbell); MBOX returns what the AML last posted.
    /// </summary>
    private static string SigningDsdt(TempDir d, int revision, ulong mailbox, int port)
    {
        string asl = d.File($"signing{revision}.asl");
        File.WriteAllText(asl, $$"""
            DefinitionBlock ("", "DSDT", {{revision}}, "XVTEST", "SIGN{{revision}}", 1)
            {
                Scope (\_SB) { }
                OperationRegion (TMBX, SystemMemory, 0x{{mailbox:X}}, 0x{{MailboxProtocol.PageSize:X}})
                Field (TMBX, DWordAcc, NoLock, Preserve)
                {
                    Offset ({{MailboxProtocol.SignatureOffset}}), TSIG, 32,
                    Offset ({{MailboxProtocol.StateOffset}}), TSTA, 32,
                    Offset ({{MailboxProtocol.CommandOffset}}), TCMD, 32,
                    Offset ({{MailboxProtocol.HandleOffset}}), THDL, 32,
                    Offset ({{MailboxProtocol.RevisionOffset}}), TREV, 32,
                    Offset ({{MailboxProtocol.FunctionOffset}}), TFUN, 32,
                    Offset ({{MailboxProtocol.InputLengthOffset}}), TILN, 32,
                    Offset ({{MailboxProtocol.OutputLengthOffset}}), TOLN, 32,
                    Offset ({{MailboxProtocol.FamilyOffset}}), TFAM, 32,
                    Offset ({{MailboxProtocol.DataOffset}}), TDAT, 96
                }
                OperationRegion (TDBR, SystemIO, 0x{{port:X}}, 1)
                Field (TDBR, ByteAcc, NoLock, Preserve) { TDBL, 8 }
                Method (ARMS, 0)
                {
                    TSIG = 0x{{Signature:X8}}
                    TDBL = Zero
                    Return (TSIG)
                }
                Method (MBOX, 0)
                {
                    Local0 = Package (0x0A) { }
                    Local0 [0] = TSTA
                    Local0 [1] = TCMD
                    Local0 [2] = THDL
                    Local0 [3] = TREV
                    Local0 [4] = TFUN
                    Local0 [5] = TILN
                    Local0 [6] = TOLN
                    Local0 [7] = TFAM
                    Local0 [8] = TDBL
                    Local0 [9] = TDAT
                    Return (Local0)
                }
            }

            """);
        var r = ProcessRunner.Run("iasl", ["-p", $"signing{revision}", asl], d.Path);
        Assert.True(r.ExitCode == 0 && r.Stdout.Contains("0 Errors, 0 Warnings", StringComparison.Ordinal), r.ToString());
        return d.File($"signing{revision}.aml");
    }

    private const string RootUuid = "(A4 E7 10 2F 91 9E E4 11 89 D3 12 3B 93 F7 5C BA)";
    private const string IntelUuid = "(30 AC 09 43 11 0D E4 11 91 91 08 00 20 0C 9A 66)";

    /// <summary>A DSDT of the given revision compiled by iasl itself (revision 1 = 32-bit AML integers).</summary>
    private static string Dsdt(TempDir d, int revision)
    {
        string asl = d.File($"dsdt{revision}.asl");
        File.WriteAllText(asl, $"DefinitionBlock (\"\", \"DSDT\", {revision}, \"XVTEST\", \"DSDT{revision}\", 1) {{ Scope (\\_SB) {{ }} Method (WIDT, 0) {{ Return (Ones) }} }}\n");
        var r = ProcessRunner.Run("iasl", ["-p", $"dsdt{revision}", asl], d.Path);
        Assert.True(r.ExitCode == 0, r.ToString());
        return d.File($"dsdt{revision}.aml");
    }
}
