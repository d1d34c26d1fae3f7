using System.CommandLine;
using Microsoft.Extensions.Logging;
using XenVnvdimm.Acpi.Nfit;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Tables;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>xen-vnvdimm tables --config FILE [--out DIR] [--state-dir DIR] [--platform xen|qemu] [--label-dir DIR]</c> builds
/// NFIT.bin, SSDT.aml, acpi_firmware.bin, nfit.txt (the NFIT decoded) and layout.json (the layout
/// record). Without --out they go to STATE_DIR/NAME (NAME from the config's <c>name=</c>, STATE_DIR
/// /var/lib/xen-vnvdimm), where the device-model wrapper finds them, and the command prints the
/// lines the guest's xl config needs. <c>xen-vnvdimm tables --decode FILE</c> prints an NFIT.
/// </summary>
internal static class TablesCommand
{
    /// <summary>Where the tables of each guest live by default.</summary>
    public const string DefaultStateDir = "/var/lib/xen-vnvdimm";

    /// <summary>Where the package installs the device-model wrapper.</summary>
    public const string WrapperPath = "/usr/lib/xen-vnvdimm/qemu-dm";

    private static readonly Option<string> s_stateDir = new("--state-dir")
    {
        Description = "without --out: the tables go to DIR/NAME (NAME: the config's name=)",
        HelpName = "DIR",
        DefaultValueFactory = _ => DefaultStateDir,
    };
    private static readonly Option<string?> s_config = new("--config") { Description = "the guest's config (xl syntax)", HelpName = "FILE" };
    private static readonly Option<string?> s_out = new("--out")
    {
        Description = "directory for NFIT.bin, SSDT.aml, acpi_firmware.bin, nfit.txt and layout.json (created; files in it replaced); default: --state-dir/NAME",
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
            { s_config, s_out, s_stateDir, s_platform, s_decode, LabelDirectoryOption.Option };
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
        if (configPath is null)
            throw new UserErrorException("missing required option --config (or --decode FILE)");
        configPath = Path.GetFullPath(configPath);
        string? outOption = outDir;
        string stateDir = args.GetValue(s_stateDir)!;
        var platform = ParsePlatform(args.GetValue(s_platform)!);
        var labels = LabelDirectoryOption.Read(args, logging);

        var logger = logging.CreateLogger("tables");
        var file = VnvdimmConfig.ReadFile(configPath);
        var config = VnvdimmConfig.FromFile(file, platform, logger);
        string? guestName = GuestName(file, configPath);
        string dir = outOption ?? Path.Combine(stateDir, guestName ?? throw new UserErrorException(
            $"{configPath} has no name= setting; give the guest a name or use --out DIR"));
        var layout = LayoutPlanner.Plan(config, labels: labels);
        var tables = GuestTables.Build(layout);
        var record = new LayoutRecord(Path.GetFullPath(dir), guestName, configPath, VnvdimmSettingsDigest.Of(file));

        // Everything is computed before anything is written: a bad config writes nothing.
        var files = new (string Name, byte[] Bytes)[]
        {
            ("NFIT.bin", tables.Nfit),
            ("SSDT.aml", tables.Ssdt),
            ("acpi_firmware.bin", tables.AcpiFirmware),
            ("nfit.txt", System.Text.Encoding.UTF8.GetBytes(NfitDecoder.Describe(NfitParser.Parse(tables.Nfit)))),
            // Last: a record on disk means the tables beside it are complete.
            (LayoutRecord.FileName, LayoutJson.Write(layout, record, platform)),
        };
        WriteAll(dir, files);
        logger.LogInformation("wrote {Count} devices, {Slots} slots to {Dir}", layout.Devices.Count, layout.SlotCount, dir);
        if (outOption is null && platform == GuestPlatform.Xen)
        {
            Console.Out.WriteLine($"# {Path.GetFileName(configPath)} needs these lines (libxl then starts the companion at every create, reboot and restore):");
            Console.Out.WriteLine($"device_model_override = \"{WrapperPath}\"");
            Console.Out.WriteLine($"acpi_firmware = \"{record.AcpiFirmwarePath}\"");
        }
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

    // The guest's name= as xl reads it; it names a directory, so it must be one path component.
    private static string? GuestName(XlConfigFile file, string configPath)
    {
        if (!file.Values.TryGetValue("name", out var v))
            return null;
        if (v.Scalar is not { Length: > 0 } name || name is "." or ".." || name.Contains('/') || name.Contains('\0'))
            throw new UserErrorException($"{configPath}: name (line {v.Line}) '{v.Scalar}' cannot name a directory");
        return name;
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
