namespace XenVnvdimm.DeviceModel.Xen.Foreign;

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
