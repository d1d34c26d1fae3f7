using System.Text;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.XenStore.Client;

/// <summary>
/// The node operations shared by a connection and its transactions: read, write, mkdir, rm,
/// list (with DIRECTORY_PART for long lists) and permissions.
/// </summary>
public abstract class XenStoreOperations
{
    private protected XenStoreOperations(XsConnection connection, XenStoreClientOptions options)
    {
        Connection = connection;
        Options = options;
    }

    private protected XsConnection Connection { get; }

    private protected XenStoreClientOptions Options { get; }

    /// <summary>The transaction id these operations run in (0 outside a transaction).</summary>
    private protected abstract uint TransactionId { get; }

    private protected Task<XsMessage> SendAsync(XsMessageType type, byte[] payload, string what, CancellationToken cancellationToken) =>
        Connection.RequestAsync(type, TransactionId, payload, what, Options.RequestTimeout, cancellationToken);

    /// <summary>Reads a node's raw value.</summary>
    /// <exception cref="XenStoreException">ENOENT, EACCES, ...</exception>
    public async Task<byte[]> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        var reply = await SendAsync(XsMessageType.Read, XsPayload.Strings(path), $"read {path}", cancellationToken).ConfigureAwait(false);
        return reply.Payload.ToArray();
    }

    /// <summary>Reads a node's value as UTF-8 text.</summary>
    public async Task<string> ReadStringAsync(string path, CancellationToken cancellationToken = default) =>
        Encoding.UTF8.GetString(await ReadAsync(path, cancellationToken).ConfigureAwait(false));

    /// <summary>Reads a node's value as text, or null when the node does not exist.</summary>
    public async Task<string?> TryReadStringAsync(string path, CancellationToken cancellationToken = default)
    {
        try
        {
            return await ReadStringAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (XenStoreException e) when (e.Error == XenStoreErrno.ENOENT)
        {
            return null;
        }
    }

    /// <summary>True when the node exists and is readable (as <c>xenstore-exists</c> decides).</summary>
    public async Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default)
    {
        try
        {
            await ReadAsync(path, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (XenStoreException e) when (e.Error is XenStoreErrno.ENOENT or XenStoreErrno.EACCES)
        {
            return false;
        }
    }

    /// <summary>Writes a node's value, creating missing parents.</summary>
    public Task WriteAsync(string path, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default) =>
        SendAsync(XsMessageType.Write, XsPayload.StringThenBytes(path, value.Span), $"write {path}", cancellationToken);

    /// <summary>Writes a node's value as UTF-8 text (without a trailing NUL, like the Xen tools).</summary>
    public Task WriteAsync(string path, string value, CancellationToken cancellationToken = default) =>
        WriteAsync(path, Encoding.UTF8.GetBytes(value), cancellationToken);

    /// <summary>Ensures a node exists (empty value when created).</summary>
    public Task MkdirAsync(string path, CancellationToken cancellationToken = default) =>
        SendAsync(XsMessageType.Mkdir, XsPayload.Strings(path), $"mkdir {path}", cancellationToken);

    /// <summary>Removes a node and everything below it; no error when it does not exist.</summary>
    public Task RemoveAsync(string path, CancellationToken cancellationToken = default) =>
        SendAsync(XsMessageType.Rm, XsPayload.Strings(path), $"rm {path}", cancellationToken);

    /// <summary>The names of a node's children, in the server's order.</summary>
    public async Task<IReadOnlyList<string>> ListAsync(string path, CancellationToken cancellationToken = default)
    {
        try
        {
            var reply = await SendAsync(XsMessageType.Directory, XsPayload.Strings(path), $"directory {path}", cancellationToken).ConfigureAwait(false);
            return SplitOrThrow(reply.Payload.Span, path);
        }
        catch (XenStoreException e) when (e.Error == XenStoreErrno.E2BIG)
        {
            return await ListInPartsAsync(path, cancellationToken).ConfigureAwait(false);
        }
    }

    // DIRECTORY_PART: the list in chunks by byte offset; a changed generation count means the
    // node changed between chunks, so the listing restarts (bounded, like the retries of xs.c).
    private async Task<IReadOnlyList<string>> ListInPartsAsync(string path, CancellationToken cancellationToken)
    {
        const int maxRestarts = 16;
        for (int restart = 0; restart < maxRestarts; restart++)
        {
            var names = new List<string>();
            string? generation = null;
            int offset = 0;
            while (true)
            {
                var reply = await SendAsync(XsMessageType.DirectoryPart, XsPayload.Strings(path, offset.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                                            $"directory-part {path}", cancellationToken).ConfigureAwait(false);
                var span = reply.Payload.Span;
                int nul = span.IndexOf((byte)0);
                if (nul < 0)
                    throw new XenStoreException(XenStoreErrno.EIO, $"directory-part {path}: reply without generation count");
                string gen = Encoding.ASCII.GetString(span[..nul]);
                var chunk = span[(nul + 1)..];
                if (generation is null)
                    generation = gen;
                else if (gen != generation)
                    break;
                // The last chunk carries an extra NUL (an empty name) after its children.
                bool last = chunk.Length == 0 || chunk[^1] == 0 && (chunk.Length == 1 || chunk[^2] == 0);
                var list = XsPayload.Split(last ? chunk[..^1] : chunk, out var rest);
                if (rest is not null)
                    throw new XenStoreException(XenStoreErrno.EIO, $"directory-part {path}: unterminated child name");
                names.AddRange(list);
                offset += chunk.Length;
                if (last || chunk.Length == 0)
                    return names;
            }
        }
        throw new XenStoreException(XenStoreErrno.EAGAIN, $"directory-part {path}: node kept changing");
    }

    private static List<string> SplitOrThrow(ReadOnlySpan<byte> payload, string path)
    {
        var names = XsPayload.Split(payload, out var rest);
        if (rest is not null)
            throw new XenStoreException(XenStoreErrno.EIO, $"directory {path}: unterminated child name");
        return names;
    }

    /// <summary>A node's permissions.</summary>
    public async Task<XenStorePermissions> GetPermissionsAsync(string path, CancellationToken cancellationToken = default)
    {
        var reply = await SendAsync(XsMessageType.GetPerms, XsPayload.Strings(path), $"get-perms {path}", cancellationToken).ConfigureAwait(false);
        try
        {
            return XenStorePermissions.Parse(SplitOrThrow(reply.Payload.Span, path));
        }
        catch (FormatException e)
        {
            throw new XenStoreException(XenStoreErrno.EIO, $"get-perms {path}: {e.Message}");
        }
    }

    /// <summary>Sets a node's permissions (caller must own the node or be privileged).</summary>
    public Task SetPermissionsAsync(string path, XenStorePermissions permissions, CancellationToken cancellationToken = default) =>
        SendAsync(XsMessageType.SetPerms, XsPayload.Strings([path, .. permissions.ToStrings()]), $"set-perms {path}", cancellationToken);
}
