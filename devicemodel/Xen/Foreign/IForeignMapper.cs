namespace XenVnvdimm.DeviceModel.Xen.Foreign;

/// <summary>Maps single guest pages (the DSM mailbox) into this process.</summary>
internal interface IForeignMapper
{
    /// <summary>Maps guest frame <paramref name="gfn"/>; dispose the result to unmap.</summary>
    ForeignPage MapPage(ulong gfn);
}
