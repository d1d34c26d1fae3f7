using System.Text.Json;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Layout;

namespace XenVnvdimm.DeviceModel.Tables;

/// <summary>
/// What <c>xen-vnvdimm tables</c> wrote for one guest (layout.json in its directory): the guest's
/// name, the config it came from and a digest of that config's vNVDIMM settings, so that a device
/// model started later can tell whether the tables libxl hands the guest still match the config.
/// </summary>
/// <param name="Directory">The directory holding the record and the tables.</param>
/// <param name="Name">The guest's name (the config's <c>name=</c>), or null if it had none.</param>
/// <param name="ConfigPath">Absolute path of the config the tables were built from.</param>
/// <param name="Digest">The <see cref="VnvdimmSettingsDigest"/> of that config when they were built.</param>
public sealed record LayoutRecord(string Directory, string? Name, string ConfigPath, string Digest)
{
    /// <summary>Version of the record format; another version must be rewritten by <c>tables</c>.</summary>
    public const int Version = 2;

    /// <summary>File name of the record in its directory.</summary>
    public const string FileName = "layout.json";

    /// <summary>Path of the acpi_firmware blob next to the record.</summary>
    public string AcpiFirmwarePath => Path.Combine(Directory, "acpi_firmware.bin");

    /// <summary>Reads the record in <paramref name="dir"/> without checking it against a config.</summary>
    public static LayoutRecord Read(string dir)
    {
        string path = Path.Combine(dir, FileName);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"no layout record in {dir} ({e.Message}); run `xen-vnvdimm tables --config CFG` first");
        }
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            int version = root.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : 0;
            if (version != Version)
                throw new UserErrorException($"{path} is a version {version} layout record, this xen-vnvdimm reads version {Version}; re-run tables");
            string? name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            string config = root.GetProperty("config").GetString() ?? throw new FormatException("config is null");
            string digest = root.GetProperty("config_digest").GetString() ?? throw new FormatException("config_digest is null");
            return new LayoutRecord(dir, name, config, digest);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new UserErrorException($"{path} is not a layout record ({e.Message}); re-run tables");
        }
    }

    /// <summary>
    /// Reads the record in <paramref name="dir"/> and refuses it when the vNVDIMM settings of
    /// <paramref name="current"/> (the config as it is now) differ from those it was written from.
    /// </summary>
    public static LayoutRecord Load(string dir, XlConfigFile current)
    {
        var record = Read(dir);
        if (VnvdimmSettingsDigest.Of(current) != record.Digest)
            throw new UserErrorException(
                $"the vNVDIMM settings of {Path.GetFileName(record.ConfigPath)} changed after `xen-vnvdimm tables` wrote {dir}; re-run tables");
        return record;
    }

    /// <summary>
    /// What a device model starts from: the layout recorded in <paramref name="dir"/>, loaded, not
    /// planned again. Refused when the config (<paramref name="configPath"/>, else the one the record
    /// names) no longer has the recorded vNVDIMM settings, when the record was written for another
    /// platform, or when the tables built from the recorded layout are not byte for byte the
    /// acpi_firmware libxl hands the guest: the companion's FIT then always describes the guest's NFIT.
    /// </summary>
    public static (LayoutRecord Record, GuestLayout Layout) Verify(string dir, string? configPath, GuestPlatform platform)
    {
        var record = Read(dir);
        var file = VnvdimmConfig.ReadFile(configPath ?? record.ConfigPath);
        record = Load(dir, file) with { ConfigPath = Path.GetFullPath(configPath ?? record.ConfigPath) };
        string path = Path.Combine(dir, FileName);
        GuestLayout layout;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            layout = LayoutJson.Read(doc.RootElement, platform);
        }
        catch (Exception e) when (e is JsonException or FormatException or OverflowException or InvalidOperationException or UserErrorException)
        {
            throw new UserErrorException($"{path} does not hold a usable layout ({e.Message}); re-run tables");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"cannot read {path} ({e.Message}); re-run tables");
        }
        byte[] built = GuestTables.Build(layout).AcpiFirmware;
        byte[] written;
        try
        {
            written = File.ReadAllBytes(record.AcpiFirmwarePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"cannot read {record.AcpiFirmwarePath} ({e.Message}); re-run tables");
        }
        if (!built.AsSpan().SequenceEqual(written))
            throw new UserErrorException($"{record.AcpiFirmwarePath} is not what {path} describes; re-run tables");
        return (record, layout);
    }
}
