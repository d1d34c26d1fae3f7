namespace XenVnvdimm.DeviceModel.Xen.Foreign;

/// <summary>Foreign mapping through IOCTL_PRIVCMD_MMAPBATCH_V2, like libxenforeignmemory.</summary>
internal sealed unsafe class PrivcmdForeignMapper(Privcmd privcmd, ushort domid) : IForeignMapper
{
    /// <inheritdoc/>
    public ForeignPage MapPage(ulong gfn)
    {
        void* a = privcmd.MapForeignPage(domid, gfn);
        return new ForeignPage(gfn, (nint)a, p => privcmd.Unmap((void*)p, 1));
    }
}
