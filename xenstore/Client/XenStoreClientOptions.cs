using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace XenVnvdimm.XenStore.Client;

/// <summary>Settings of a <see cref="XenStoreClient"/>.</summary>
public sealed class XenStoreClientOptions
{
    /// <summary>How long one request may wait for its reply; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often <see cref="XenStoreClient.TransactionAsync{T}"/> runs its body before giving up on EAGAIN.</summary>
    public int MaxTransactionAttempts { get; init; } = 16;

    /// <summary>Diagnostics.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;
}
