namespace XenVnvdimm.DeviceModel.Xen.Abi;

/// <summary>Values that are not in the public headers (internal to Xen, or conventions).</summary>
internal static class XenInternal
{
    /// <summary>Xen's internal "preempted, continue" code: never exposed to callers, turned into a continuation.</summary>
    public const int ERESTART = 85;

    public const int PageShift = 12;
    public const ulong PageSize = 1UL << PageShift;
}
