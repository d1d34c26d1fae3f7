namespace XenVnvdimm.DeviceModel.Xen.Abi;

/// <summary>
/// Xen hypercall numbers, error numbers and domain ids (xen/xen.h, xen/errno.h). C names are kept so that
/// the ABI check can compare them one by one with Xen's headers.
/// </summary>
[AbiConstants]
internal static class XenConstants
{
    public const uint __HYPERVISOR_memory_op = 12;
    public const uint __HYPERVISOR_xen_version = 17;
    public const uint __HYPERVISOR_event_channel_op = 32;
    public const uint __HYPERVISOR_hvm_op = 34;
    public const uint __HYPERVISOR_sysctl = 35;
    public const uint __HYPERVISOR_domctl = 36;
    public const uint __HYPERVISOR_dm_op = 41;

    public const ushort DOMID_SELF = 0x7FF0;
    public const ushort DOMID_FIRST_RESERVED = 0x7FF0;

    public const int XEN_EPERM = 1;
    public const int XEN_ENOENT = 2;
    public const int XEN_ESRCH = 3;
    public const int XEN_E2BIG = 7;
    public const int XEN_ENOMEM = 12;
    public const int XEN_EACCES = 13;
    public const int XEN_EFAULT = 14;
    public const int XEN_EBUSY = 16;
    public const int XEN_EINVAL = 22;
    public const int XEN_ENOSYS = 38;

    /// <summary>xen/version.h: returns (major &lt;&lt; 16) | minor.</summary>
    public const uint XENVER_version = 0;
}

/// <summary>Values that are not in the public headers (internal to Xen, or conventions).</summary>
internal static class XenInternal
{
    /// <summary>Xen's internal "preempted, continue" code: never exposed to callers, turned into a continuation.</summary>
    public const int ERESTART = 85;

    public const int PageShift = 12;
    public const ulong PageSize = 1UL << PageShift;
}

/// <summary>Marks a static class whose constants <c>xen-vnvdimm abi</c> reports.</summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class AbiConstantsAttribute : Attribute;

/// <summary>Marks a struct whose size and field offsets <c>xen-vnvdimm abi</c> reports.</summary>
[AttributeUsage(AttributeTargets.Struct)]
internal sealed class AbiStructAttribute : Attribute;
