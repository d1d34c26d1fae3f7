using System.Text;
using System.Text.RegularExpressions;

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
        }
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
