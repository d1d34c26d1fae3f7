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
