using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using XenVnvdimm.Acpi.Nfit;
using XenVnvdimm.DeviceModel.Backing.HostScan;
using XenVnvdimm.DeviceModel.Backing.Sysfs;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>xen-vnvdimm host-scan [--json] [--sysfs DIR]</c>: the host's pmem SPA ranges from the NFIT, E820
/// and the nd bus, cross-checked. Exit 0 when the sources agree, 1 when they disagree.
/// </summary>
internal static class HostScanCommand
{
    private static readonly Option<bool> s_json = new("--json") { Description = "print JSON" };
    private static readonly Option<string> s_sysfs = new("--sysfs")
    {
        Description = "root of the sysfs tree to read (a copy, for tests)",
        HelpName = "DIR",
        DefaultValueFactory = _ => "/sys",
    };

    public static Command Create()
    {
        var command = new Command("host-scan",
            "list the host's pmem SPA ranges from NFIT, E820 and the nd bus, cross-checked; exit 1 when they disagree")
            { s_json, s_sysfs };
        command.SetMain(Run);
        return command;
    }

    private static int Run(ParseResult args, ILoggerFactory logging)
    {
        bool json = args.GetValue(s_json);
        string root = args.GetValue(s_sysfs)!;
        HostScanReport report;
        try
        {
            report = HostPmemScanner.Scan(new SysfsTree(root));
        }
        catch (NfitFormatException e)
        {
            throw new UserErrorException($"{root}/firmware/acpi/tables/NFIT: {e.Message}", e);
        }
        if (json)
            WriteJson(report);
        else
        {
            foreach (var r in report.Nfit.Concat(report.E820).Concat(report.Regions))
                Console.Out.WriteLine($"{r.Source,-5} {r.Name,-40} 0x{r.Start:x16}-0x{r.End:x16} {r.Length >> 20} MiB");
            if (report.Empty)
                Console.Out.WriteLine("no persistent memory found");
            foreach (string n in report.Notes)
                Console.Out.WriteLine($"note  {n}");
            foreach (string d in report.Disagreements)
                Console.Out.WriteLine($"DISAGREE {d}");
        }
        return report.Disagreements.Count == 0 ? 0 : 1;
    }

    // Written field by field: no reflection, so the native program needs no serializer metadata.
    private static void WriteJson(HostScanReport report)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            Ranges(w, "nfit", report.Nfit);
            Ranges(w, "e820", report.E820);
            Ranges(w, "regions", report.Regions);
            Strings(w, "disagreements", report.Disagreements);
            Strings(w, "notes", report.Notes);
            w.WriteEndObject();
        }
        Console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    private static void Ranges(Utf8JsonWriter w, string name, IEnumerable<PmemRange> ranges)
    {
        w.WriteStartArray(name);
        foreach (var r in ranges)
        {
            w.WriteStartObject();
            w.WriteString("source", r.Source);
            w.WriteString("name", r.Name);
            w.WriteNumber("start", r.Start);
            w.WriteNumber("length", r.Length);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (string v in values)
            w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
