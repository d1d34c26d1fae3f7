namespace XenVnvdimm.DeviceModel.Xen.Ioreq;

/// <summary>A running ioreq server: answers the guest's accesses to its ranges until disposed.</summary>
internal interface IIoreqServer : IDisposable
{
    /// <summary>Xen's id of the server.</summary>
    ushort Id { get; }

    /// <summary>Requests completed so far (of every type, including refused ones).</summary>
    long Completed { get; }

    /// <summary>Requests refused as malformed (answered without calling the handler).</summary>
    long Refused { get; }

    /// <summary>
    /// Completes when the serving loop stopped by itself (the event channel or a notification failed):
    /// from then on every vCPU that rings waits, so the owner must report it and start a new server.
    /// </summary>
    Task<XenException> Fault { get; }

    /// <summary>The domain is gone and Xen destroyed the server with it: disposal only releases local resources.</summary>
    void DomainGone() { }
}
