using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.XenStore.Client;

/// <summary>
/// A xenstore transaction: its reads and writes are isolated until <see cref="CommitAsync"/>, which
/// fails with EAGAIN when another writer touched what it used. Disposing without committing aborts.
/// </summary>
public sealed class XenStoreTransaction : XenStoreOperations, IAsyncDisposable
{
    private bool _ended;

    internal XenStoreTransaction(XsConnection connection, XenStoreClientOptions options, uint id) : base(connection, options)
    {
        Id = id;
    }

    /// <summary>The server's transaction id.</summary>
    public uint Id { get; }

    private protected override uint TransactionId => Id;

    /// <summary>Commits; throws <see cref="XenStoreException"/> with EAGAIN on a conflict.</summary>
    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfEnded();
        _ended = true;
        await SendAsync(XsMessageType.TransactionEnd, XsPayload.Strings("T"), $"commit transaction {Id}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Commits; false on a conflict (EAGAIN), so the caller may run its body again.</summary>
    public async Task<bool> TryCommitAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await CommitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (XenStoreException e) when (e.Error == XenStoreErrno.EAGAIN)
        {
            return false;
        }
    }

    /// <summary>Discards the transaction.</summary>
    public async Task AbortAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfEnded();
        _ended = true;
        await SendAsync(XsMessageType.TransactionEnd, XsPayload.Strings("F"), $"abort transaction {Id}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Aborts if neither committed nor aborted; errors of a broken connection are ignored.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_ended)
            return;
        try
        {
            await AbortAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is XenStoreException or XenStoreConnectionException or TimeoutException)
        {
            // The server drops the transaction with the connection anyway.
        }
    }

    private void ThrowIfEnded()
    {
        if (_ended)
            throw new InvalidOperationException($"transaction {Id} has already ended");
    }
}
