using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.XenStore;

/// <summary>The server refused a request with an errno (an ERROR reply).</summary>
public class XenStoreException : Exception
{
    /// <summary>Creates the exception for <paramref name="error"/>, naming the request and path.</summary>
    public XenStoreException(XenStoreErrno error, string message) : base($"{message}: {error}")
    {
        Error = error;
    }

    /// <summary>The errno the server sent.</summary>
    public XenStoreErrno Error { get; }
}

/// <summary>
/// The connection to xenstored is broken: closed, malformed input from the server, or an I/O error.
/// Every pending and later call on that connection fails with this exception.
/// </summary>
public sealed class XenStoreConnectionException : Exception
{
    /// <summary>Creates the exception with its cause.</summary>
    public XenStoreConnectionException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A message violates the wire protocol (bad length, unknown type, unsolicited reply...).</summary>
public sealed class XenStoreProtocolException : Exception
{
    /// <summary>Creates the exception describing the violation.</summary>
    public XenStoreProtocolException(string message) : base(message) { }
}
