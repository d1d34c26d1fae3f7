using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace XenVnvdimm.DeviceModel.Labels;

/// <summary>
/// Where a device's label area lives when its entry names no <c>label=</c>: under a labels root
/// owned by root, one file per device keyed by its stable serial (<c>ROOT/&lt;serial as 8 hex&gt;.label</c>).
/// Earlier versions kept it beside the backing (<c>BACKEND.label</c>), or for a device backend as
/// <c>ROOT/&lt;device name&gt;.label</c>; such a file, when present, is still used, so a guest keeps
/// its namespaces. The root comes from the command line (<c>--label-dir</c>); nothing below the CLI
/// decides it.
/// </summary>
/// <param name="Root">The labels root directory.</param>
/// <param name="Logger">Told which location each device's labels use.</param>
public sealed record LabelLocation(string Root, ILogger? Logger = null)
{
    /// <summary>The labels root of a Xen host when none is given.</summary>
    public const string DefaultRoot = "/var/lib/xen-vnvdimm/labels";

    /// <summary>The default root, without logging.</summary>
    public static LabelLocation Default { get; } = new(DefaultRoot);

    /// <summary>
    /// The default label file of a device: a file an earlier version created for this backend if
    /// there is one (anything at that name counts, a link too, so a planted one is refused when
    /// opened rather than passed over), else the serial's file under <see cref="Root"/>.
    /// </summary>
    /// <param name="name">The entry's name, for the log.</param>
    /// <param name="canonicalBackend">The backend's full path.</param>
    /// <param name="serial">The device's stable serial.</param>
    public string Resolve(string name, string canonicalBackend, uint serial)
    {
        string legacy = canonicalBackend.StartsWith("/dev/", StringComparison.Ordinal)
            ? Path.Combine(Root, canonicalBackend[5..].Replace('/', '_') + ".label")
            : canonicalBackend + ".label";
        var logger = Logger ?? NullLogger.Instance;
        if (File.Exists(legacy) || new FileInfo(legacy).LinkTarget is not null)
        {
            logger.LogInformation("{Name}: labels in {Path}, the file an earlier version created for {Backend}", name, legacy, canonicalBackend);
            return legacy;
        }
        string path = Path.Combine(Root, $"{serial:x8}.label");
        logger.LogInformation("{Name}: labels in {Path} (labels root, serial 0x{Serial:x8})", name, path, serial);
        return path;
    }
}
