namespace XenVnvdimm.XenStore.Server;

/// <summary>Quotas and limits of the embedded xenstored. Quotas bind unprivileged (non-dom0) connections.</summary>
public sealed class XenStoreServerOptions
{
    /// <summary>Largest node (value plus permissions, bytes) an unprivileged domain may write; ENOSPC above.</summary>
    public int NodeSizeQuota { get; init; } = 2048;

    /// <summary>Watches an unprivileged connection may hold; E2BIG above.</summary>
    public int WatchQuota { get; init; } = 128;

    /// <summary>Open transactions an unprivileged connection may hold; ENOSPC above.</summary>
    public int TransactionQuota { get; init; } = 10;

    /// <summary>Hard limit on watches of any connection, privileged or not, to bound memory.</summary>
    public int MaxWatchesPerConnection { get; init; } = 4096;

    /// <summary>Hard limit on open transactions of any connection.</summary>
    public int MaxTransactionsPerConnection { get; init; } = 256;

    /// <summary>Output bytes queued for a connection that does not read before it is dropped.</summary>
    public long MaxQueuedOutputBytes { get; init; } = 16 << 20;

    /// <summary>Where the CONTROL command <c>dump</c> writes the tree; null disables it.</summary>
    public string? DumpPath { get; init; }
}
