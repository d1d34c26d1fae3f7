namespace XenVnvdimm.DeviceModel.Companion;

/// <summary>Why a companion stopped serving.</summary>
internal enum StopReason
{
    /// <summary>SIGTERM, SIGINT or cancellation: the guest lives on with its pmem (xen, sim).</summary>
    Signal,

    /// <summary>The domain was released (@releaseDomain): Xen dropped its frames; claims and records go.</summary>
    DomainReleased,

    /// <summary>The guest ended on its own (qemu).</summary>
    GuestExited,
}
