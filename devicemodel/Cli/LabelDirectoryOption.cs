using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Labels;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>--label-dir DIR</c>: the labels root of devices whose entry names no <c>label=</c>; else
/// <c>$XEN_VNVDIMM_LABEL_DIR</c>, else <see cref="LabelLocation.DefaultRoot"/>. <c>tables</c>,
/// <c>verify</c> and <c>run</c> must be given the same one, as they must the same config.
/// </summary>
internal static class LabelDirectoryOption
{
    /// <summary>The environment variable naming the labels root (read here only).</summary>
    public const string EnvironmentVariable = "XEN_VNVDIMM_LABEL_DIR";

    /// <summary>Takes the option from <paramref name="args"/> and builds the location.</summary>
    public static LabelLocation Read(CommandArgs args, ILoggerFactory logging)
    {
        string root = args.Option("--label-dir")
            ?? (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } env ? env : LabelLocation.DefaultRoot);
        if (!Path.IsPathFullyQualified(root))
            throw new UserErrorException($"--label-dir '{root}' must be an absolute path");
        return new LabelLocation(root, logging.CreateLogger("labels"));
    }
}
