namespace XenVnvdimm.DeviceModel.Backing.InfoBlock;

/// <summary>An info block that is absent, corrupt, or one this program does not understand.</summary>
public sealed class InfoBlockFormatException : Exception
{
    /// <summary>Creates the error with a message naming the offending field.</summary>
    public InfoBlockFormatException(string message) : base(message) { }
}
