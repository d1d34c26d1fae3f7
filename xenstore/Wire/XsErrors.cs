namespace XenVnvdimm.XenStore.Wire;

/// <summary>The errno values xenstore sends by name (<c>xsd_errors</c> in xs_wire.h), with Linux numbers.</summary>
public enum XenStoreErrno
{
    /// <summary>Invalid argument.</summary>
    EINVAL = 22,
    /// <summary>Permission denied.</summary>
    EACCES = 13,
    /// <summary>Already exists.</summary>
    EEXIST = 17,
    /// <summary>Is a directory.</summary>
    EISDIR = 21,
    /// <summary>No such node (or transaction, or watch).</summary>
    ENOENT = 2,
    /// <summary>Out of memory.</summary>
    ENOMEM = 12,
    /// <summary>Quota exceeded.</summary>
    ENOSPC = 28,
    /// <summary>I/O error.</summary>
    EIO = 5,
    /// <summary>Directory not empty.</summary>
    ENOTEMPTY = 39,
    /// <summary>Not implemented.</summary>
    ENOSYS = 38,
    /// <summary>Read-only.</summary>
    EROFS = 30,
    /// <summary>Busy.</summary>
    EBUSY = 16,
    /// <summary>Transaction conflict: retry.</summary>
    EAGAIN = 11,
    /// <summary>Already connected.</summary>
    EISCONN = 106,
    /// <summary>Too big (payload, list, or watch quota).</summary>
    E2BIG = 7,
    /// <summary>Operation not permitted (e.g. an unprivileged domain giving a node away).</summary>
    EPERM = 1,
}

/// <summary>Maps errno names on the wire to <see cref="XenStoreErrno"/> and back.</summary>
public static class XsErrors
{
    /// <summary>The name sent on the wire, e.g. "ENOENT".</summary>
    public static string ToWire(XenStoreErrno errno) => errno.ToString();

    private static readonly Dictionary<string, XenStoreErrno> s_byName =
        Enum.GetValues<XenStoreErrno>().ToDictionary(e => e.ToString(), StringComparer.Ordinal);

    /// <summary>
    /// Parses an ERROR payload ("ENOENT\0"). Unknown names map to EINVAL, as libxenstore does;
    /// <paramref name="known"/> says whether the name was one of the protocol's.
    /// </summary>
    public static XenStoreErrno FromWire(ReadOnlySpan<byte> payload, out bool known)
    {
        known = s_byName.TryGetValue(XsPayload.TrimmedString(payload), out var errno);
        return known ? errno : XenStoreErrno.EINVAL;
    }
}
