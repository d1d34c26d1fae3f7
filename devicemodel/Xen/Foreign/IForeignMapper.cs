namespace XenVnvdimm.DeviceModel.Xen.Foreign;

/// <summary>Maps single guest pages (the DSM mailbox) into this process.</summary>
internal interface IForeignMapper
{
    /// <summary>Maps guest frame <paramref name="gfn"/>; dispose the result to unmap.</summary>
    ForeignPage MapPage(ulong gfn);
}

/// <summary>One guest page mapped into this process.</summary>
internal sealed unsafe class ForeignPage : IDisposable
{
    private readonly Action<nint> _unmap;
    private nint _address;

    /// <summary>Wraps a mapping at <paramref name="address"/> released by <paramref name="unmap"/>.</summary>
    public ForeignPage(ulong gfn, nint address, Action<nint> unmap)
    {
        Gfn = gfn;
        _address = address;
        _unmap = unmap;
    }

    /// <summary>The guest frame.</summary>
    public ulong Gfn { get; }

    /// <summary>The page's 4096 bytes, shared with the guest.</summary>
    public Span<byte> Bytes => _address != 0 ? new Span<byte>((void*)_address, 4096) : throw new ObjectDisposedException(nameof(ForeignPage));

    /// <inheritdoc/>
    public void Dispose()
    {
        nint a = Interlocked.Exchange(ref _address, 0);
        if (a != 0)
            _unmap(a);
    }
}

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
