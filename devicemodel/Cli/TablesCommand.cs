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

    public static int Run(CommandArgs args, ILoggerFactory logging)
    {
        string? decode = args.Option("--decode");
        if (decode is not null)
        {
            args.End();
            return Decode(decode);
        }

        string configPath = Path.GetFullPath(args.Required("--config"));
        string? outOption = args.Option("--out");
        string stateDir = args.Option("--state-dir") ?? DefaultStateDir;
        var platform = ParsePlatform(args.Option("--platform") ?? "xen");
        var labels = LabelDirectoryOption.Read(args, logging);
        args.End();

        var logger = logging.CreateLogger("tables");
        var file = VnvdimmConfig.ReadFile(configPath);
        var config = VnvdimmConfig.FromFile(file, platform, logger);
        string? guestName = GuestName(file, configPath);
        string outDir = outOption ?? Path.Combine(stateDir, guestName ?? throw new UserErrorException(
            $"{configPath} has no name= setting; give the guest a name or use --out DIR"));
        var layout = LayoutPlanner.Plan(config, labels: labels);
        var tables = GuestTables.Build(layout);
        var record = new LayoutRecord(Path.GetFullPath(outDir), guestName, configPath, VnvdimmSettingsDigest.Of(file));

        // Everything is computed before anything is written: a bad config writes nothing.
        var files = new (string Name, byte[] Bytes)[]
        {
            ("NFIT.bin", tables.Nfit),
            ("SSDT.aml", tables.Ssdt),
            ("acpi_firmware.bin", tables.AcpiFirmware),
            ("nfit.txt", System.Text.Encoding.UTF8.GetBytes(NfitDecoder.Describe(NfitParser.Parse(tables.Nfit)))),
            // Last: a record on disk means the tables beside it are complete.
            (LayoutRecord.FileName, LayoutJson.Write(layout, record)),
        };
        Directory.CreateDirectory(outDir);
        foreach (var (name, bytes) in files)
        {
            string path = Path.Combine(outDir, name);
            string tmp = path + ".tmp";
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, path, overwrite: true);
        }
        logger.LogInformation("wrote {Count} devices, {Slots} slots to {Dir}", layout.Devices.Count, layout.SlotCount, outDir);
        if (outOption is null && platform == GuestPlatform.Xen)
        {
            Console.Out.WriteLine($"# {Path.GetFileName(configPath)} needs these lines (libxl then starts the companion at every create, reboot and restore):");
            Console.Out.WriteLine($"device_model_override = \"{WrapperPath}\"");
            Console.Out.WriteLine($"acpi_firmware = \"{record.AcpiFirmwarePath}\"");
        }
        return 0;
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
