namespace XenVnvdimm.DeviceModel.Xen.Ioreq;

/// <summary>Kind of guest access.</summary>
internal enum IoSpace
{
    /// <summary>I/O port (IOREQ_TYPE_PIO).</summary>
    Port,

    /// <summary>Memory-mapped I/O (IOREQ_TYPE_COPY).</summary>
    Memory,
}

/// <summary>One validated guest access handed to a device handler.</summary>
/// <param name="Vcpu">The vCPU that made it.</param>
/// <param name="Space">Port or memory.</param>
/// <param name="IsRead">True for a read (the handler's result is returned to the guest).</param>
/// <param name="Address">Port number or guest physical address.</param>
/// <param name="Size">1, 2, 4 or 8 bytes.</param>
/// <param name="Data">For writes, the value written (already masked to <paramref name="Size"/>).</param>
internal readonly record struct IoRequest(int Vcpu, IoSpace Space, bool IsRead, ulong Address, uint Size, ulong Data);

/// <summary>Handles one access; for reads the return value (masked to the access size) goes to the guest.</summary>
internal delegate ulong IoHandler(IoRequest request);
