namespace XenVnvdimm.XenStore.Wire;

/// <summary>Protocol limits from xs_wire.h.</summary>
public static class XsLimits
{
    /// <summary>Largest payload in either direction (XENSTORE_PAYLOAD_MAX); larger kills the connection.</summary>
    public const int PayloadMax = 4096;

    /// <summary>Longest absolute path (XENSTORE_ABS_PATH_MAX).</summary>
    public const int AbsolutePathMax = 3072;

    /// <summary>Longest relative path (XENSTORE_REL_PATH_MAX).</summary>
    public const int RelativePathMax = 2048;
}
