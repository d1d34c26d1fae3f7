namespace XenVnvdimm.DeviceModel.Xen.Ioreq;

/// <summary>A port or MMIO range (inclusive) an ioreq server claims.</summary>
/// <param name="Space">Port or memory.</param>
/// <param name="First">First port / address.</param>
/// <param name="Last">Last port / address (inclusive, like XEN_DMOP_map_io_range_to_ioreq_server).</param>
internal readonly record struct IoRange(IoSpace Space, ulong First, ulong Last);
