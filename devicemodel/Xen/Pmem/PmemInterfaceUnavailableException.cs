namespace XenVnvdimm.DeviceModel.Xen.Pmem;

/// <summary>The hypervisor lacks the interface a mapper needs (e.g. -ENOSYS); nothing was mapped.</summary>
internal sealed class PmemInterfaceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
