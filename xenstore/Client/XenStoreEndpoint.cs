namespace XenVnvdimm.XenStore.Client;

/// <summary>
/// Where to reach xenstored, in libxenstore's order: <c>$XENSTORED_PATH</c> alone when set
/// (a socket or a device), else the daemon socket under /run or /var/run, else the kernel's
/// /dev/xen/xenbus.
/// </summary>
public static class XenStoreEndpoint
{
    /// <summary>The environment variable that overrides the location.</summary>
    public const string EnvironmentVariable = "XENSTORED_PATH";

    /// <summary>Default locations tried in order when the variable is unset.</summary>
    public static IReadOnlyList<string> DefaultPaths { get; } =
        ["/run/xenstored/socket", "/var/run/xenstored/socket", "/dev/xen/xenbus"];

    /// <summary>
    /// The candidate paths to try, first first. With <paramref name="environmentValue"/> set, only it
    /// (libxenstore does not fall back either, so a misdirected client fails loudly).
    /// </summary>
    public static IReadOnlyList<string> Candidates(string? environmentValue) =>
        string.IsNullOrEmpty(environmentValue) ? DefaultPaths : [environmentValue];

    /// <summary>
    /// The first candidate that exists (per <paramref name="exists"/>), or null; the environment is
    /// passed in so that callers and tests decide where it comes from.
    /// </summary>
    public static string? Resolve(string? environmentValue, Func<string, bool> exists) =>
        Candidates(environmentValue).FirstOrDefault(exists);
}
