using System.Runtime.InteropServices;

namespace XenVnvdimm.DeviceModel.Xen.Abi;

// Structures of Linux's xen/evtchn.h (/dev/xen/evtchn).

/// <summary>struct ioctl_evtchn_bind_interdomain.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct ioctl_evtchn_bind_interdomain
{
    public uint remote_domain;
    public uint remote_port;
}

/// <summary>struct ioctl_evtchn_unbind.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct ioctl_evtchn_unbind
{
    public uint port;
}

/// <summary>struct ioctl_evtchn_notify.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct ioctl_evtchn_notify
{
    public uint port;
}

/// <summary>struct ioctl_evtchn_restrict_domid.</summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct ioctl_evtchn_restrict_domid
{
    public ushort domid;
}

/// <summary>ioctl numbers of /dev/xen/evtchn.</summary>
[AbiConstants]
internal static unsafe class EvtchnIoctls
{
    public static readonly uint IOCTL_EVTCHN_BIND_INTERDOMAIN = Ioc.Make(Ioc._IOC_NONE, 'E', 1, sizeof(ioctl_evtchn_bind_interdomain));
    public static readonly uint IOCTL_EVTCHN_UNBIND = Ioc.Make(Ioc._IOC_NONE, 'E', 3, sizeof(ioctl_evtchn_unbind));
    public static readonly uint IOCTL_EVTCHN_NOTIFY = Ioc.Make(Ioc._IOC_NONE, 'E', 4, sizeof(ioctl_evtchn_notify));
    public static readonly uint IOCTL_EVTCHN_RESTRICT_DOMID = Ioc.Make(Ioc._IOC_NONE, 'E', 6, sizeof(ioctl_evtchn_restrict_domid));
}
