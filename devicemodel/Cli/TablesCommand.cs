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
    public static int Run(CommandArgs args, ILoggerFactory logging)
    {
        string? decode = args.Option("--decode");
        if (decode is not null)
        {
            args.End();
            return Decode(decode);
        }

        string configPath = args.Required("--config");
        string outDir = args.Required("--out");
        var platform = ParsePlatform(args.Option("--platform") ?? "xen");
        var labels = LabelDirectoryOption.Read(args, logging);
        args.End();

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
        Directory.CreateDirectory(outDir);
        foreach (var (name, bytes) in files)
        {
            string path = Path.Combine(outDir, name);
            string tmp = path + ".tmp";
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, path, overwrite: true);
        }
        logger.LogInformation("wrote {Count} devices, {Slots} slots to {Dir}", layout.Devices.Count, layout.SlotCount, outDir);
        return 0;
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
