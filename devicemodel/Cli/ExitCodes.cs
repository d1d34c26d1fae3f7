namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>The program's exit statuses, as documented in <c>--help</c>, the README and the man page.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Ok = 0;

    /// <summary>The command ran and refused or failed (a backing refused, a hot-add error, a mismatch, a fault).</summary>
    public const int Failed = 1;

    /// <summary>Usage or configuration error: bad arguments, a bad config file, a missing or unusable file.</summary>
    public const int UserError = 2;
}
