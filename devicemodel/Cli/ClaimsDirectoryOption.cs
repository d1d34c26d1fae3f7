using System.CommandLine;
using XenVnvdimm.DeviceModel.Lifecycle;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary><c>--claims-dir DIR</c>: the host-wide frame claims (default: the state directory's <c>claims</c>).</summary>
internal static class ClaimsDirectoryOption
{
    /// <summary>The option, shared by run, gc and inspect.</summary>
    public static readonly Option<string?> Option = new("--claims-dir")
    {
        Description = "host-wide frame claims (default: $XEN_VNVDIMM_STATE_DIR/claims, else /run/xen-vnvdimm/claims)",
        HelpName = "DIR",
    };

    /// <summary>The state directory: $XEN_VNVDIMM_STATE_DIR, else /run/xen-vnvdimm (read here, at the edge).</summary>
    public static string StateDirectory =>
        Environment.GetEnvironmentVariable("XEN_VNVDIMM_STATE_DIR") is { Length: > 0 } s ? s : CompanionStateFile.DefaultDirectory;

    /// <summary>The claims directory the command line names.</summary>
    public static string Read(ParseResult args) => args.GetValue(Option) ?? Path.Combine(StateDirectory, "claims");
}
