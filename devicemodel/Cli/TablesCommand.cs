using System.CommandLine;
using Microsoft.Extensions.Logging;
using XenVnvdimm.Acpi.Nfit;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Tables;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>xen-vnvdimm tables --config FILE --out DIR [--platform xen|qemu] [--label-dir DIR]</c> builds NFIT.bin,
/// SSDT.aml, acpi_firmware.bin and layout.json; <c>xen-vnvdimm tables --decode FILE</c> prints an NFIT.
/// </summary>
internal static class TablesCommand
{
    private static readonly Option<string?> s_config = new("--config") { Description = "the guest's config (xl syntax)", HelpName = "FILE" };
    private static readonly Option<string?> s_out = new("--out")
    {
        Description = "directory for NFIT.bin, SSDT.aml, acpi_firmware.bin and layout.json (created; files in it replaced)",
        HelpName = "DIR",
    };
    private static readonly Option<string> s_platform = new Option<string>("--platform")
    {
        Description = "the guest's firmware: xen (hvmloader, acpi_firmware=) or qemu",
        HelpName = "xen|qemu",
        DefaultValueFactory = _ => "xen",
    }.OneOf("xen", "qemu");
    private static readonly Option<string?> s_decode = new("--decode")
    {
        Description = "instead: print the NFIT in FILE (NFIT.bin, or /sys/firmware/acpi/tables/NFIT)",
        HelpName = "FILE",
    };

    public static Command Create()
    {
        var command = new Command("tables",
            "build a guest's NFIT and SSDT from its config (--config FILE --out DIR), or decode an NFIT (--decode FILE)")
            { s_config, s_out, s_platform, s_decode, LabelDirectoryOption.Option };
        command.SetMain(Run);
        return command;
    }

    private static int Run(ParseResult args, ILoggerFactory logging)
    {
        string? decode = args.GetValue(s_decode);
        string? configPath = args.GetValue(s_config);
        string? outDir = args.GetValue(s_out);
        if (decode is not null)
        {
            if (configPath is not null || outDir is not null)
                throw new UserErrorException("--decode FILE takes neither --config nor --out");
            return Decode(decode);
        }
        if (configPath is null || outDir is null)
            throw new UserErrorException($"missing required option {(configPath is null ? "--config" : "--out")} (or --decode FILE)");
        var platform = ParsePlatform(args.GetValue(s_platform)!);
        var labels = LabelDirectoryOption.Read(args, logging);

        var logger = logging.CreateLogger("tables");
        var config = VnvdimmConfig.Load(configPath, platform, logger);
        var layout = LayoutPlanner.Plan(config, labels: labels);
        var tables = GuestTables.Build(layout);

        // Everything is computed before anything is written: a bad config writes nothing.
        var files = new (string Name, byte[] Bytes)[]
        {
            ("NFIT.bin", tables.Nfit),
            ("SSDT.aml", tables.Ssdt),
            ("acpi_firmware.bin", tables.AcpiFirmware),
            ("layout.json", LayoutJson.Write(layout)),
        };
        WriteAll(outDir, files);
        logger.LogInformation("wrote {Count} devices, {Slots} slots to {Dir}", layout.Devices.Count, layout.SlotCount, outDir);
        return 0;
    }

    private static void WriteAll(string outDir, (string Name, byte[] Bytes)[] files)
    {
        try
        {
            if (File.Exists(outDir))
                throw new UserErrorException($"--out '{outDir}' is a file, not a directory");
            Directory.CreateDirectory(outDir);
            foreach (var (name, bytes) in files)
            {
                string path = Path.Combine(outDir, name);
                string tmp = path + ".tmp";
                File.WriteAllBytes(tmp, bytes);
                File.Move(tmp, path, overwrite: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new UserErrorException($"--out '{outDir}': cannot write the tables: {e.Message}", e);
        }
    }

    internal static GuestPlatform ParsePlatform(string text) => text switch
    {
        "xen" => GuestPlatform.Xen,
        "qemu" => GuestPlatform.Qemu,
        _ => throw new UserErrorException($"--platform '{text}' must be xen or qemu"),
    };

    private static int Decode(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"cannot read '{path}': {e.Message}");
        }
        try
        {
            Console.Out.Write(NfitDecoder.Describe(NfitParser.Parse(bytes)));
        }
        catch (NfitFormatException e)
        {
            throw new UserErrorException($"'{path}' is not a valid NFIT: {e.Message}");
        }
        return 0;
    }
}
