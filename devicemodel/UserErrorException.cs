namespace XenVnvdimm.DeviceModel;

/// <summary>
/// An error caused by the user's input (configuration, arguments, backing files).
/// The program reports its message as one line on stderr and exits non-zero.
/// </summary>
public sealed class UserErrorException : Exception
{
    /// <summary>Creates the error with a message that names the offending value.</summary>
    public UserErrorException(string message) : base(message) { }

    /// <summary>Creates the error with a message and the underlying cause.</summary>
    public UserErrorException(string message, Exception inner) : base(message, inner) { }
}
