using System.Runtime.InteropServices;
using XenVnvdimm.DeviceModel.Backing.Kernel;

namespace XenVnvdimm.DeviceModel.Backing.Extents;

/// <summary>
/// Streams a file's extents with FS_IOC_FIEMAP, one fixed-size batch at a time, so memory does not
/// grow with the extent count (a 1 TiB file fragmented at 4 KiB has 268 M extents).
/// </summary>
internal sealed unsafe class FiemapReader : IDisposable
{
    /// <summary>Extents per ioctl: 28 KiB of buffer, few enough syscalls to stay near the kernel's cost.</summary>
    public const int DefaultBatch = 512;

    private readonly NativeFile _file;
    private readonly ulong _end;
    private readonly int _batch;
    private readonly uint _requestFlags;
    private FiemapHeader* _buffer;
    private int _index;
    private int _mapped;
    private ulong _next;
    private bool _sawLast;

    /// <param name="file">The open file.</param>
    /// <param name="start">First file offset to map.</param>
    /// <param name="end">File offset to stop at (exclusive).</param>
    /// <param name="sync">Ask the kernel to flush dirty data first (FIEMAP_FLAG_SYNC), so delayed allocations get real blocks.</param>
    /// <param name="batch">Extents per ioctl.</param>
    public FiemapReader(NativeFile file, ulong start, ulong end, bool sync = true, int batch = DefaultBatch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        _file = file;
        _next = start;
        _end = end;
        _batch = batch;
        _requestFlags = sync ? Fiemap.FIEMAP_FLAG_SYNC : 0;
        _buffer = (FiemapHeader*)NativeMemory.AllocZeroed((nuint)(Fiemap.HeaderSize + batch * Fiemap.ExtentSize));
    }

    /// <summary>Number of FIEMAP ioctls issued so far.</summary>
    public int Calls { get; private set; }

    /// <summary>Returns the next extent in file order, or false once the range is exhausted.</summary>
    public bool TryNext(out FileExtent extent)
    {
        if (_index >= _mapped && !Refill())
        {
            extent = default;
            return false;
        }
        var e = Extents + _index++;
        extent = new FileExtent(e->fe_logical, e->fe_physical, e->fe_length, e->fe_flags);
        return true;
    }

    /// <summary>
    /// The extents of the current batch not yet returned, fetching the next batch when none are
    /// left; empty once the range is exhausted. The span is valid until the next call.
    /// </summary>
    public ReadOnlySpan<FiemapExtent> NextBatch()
    {
        if (_index >= _mapped && !Refill())
            return default;
        var batch = new ReadOnlySpan<FiemapExtent>(Extents + _index, _mapped - _index);
        _index = _mapped;
        return batch;
    }

    private FiemapExtent* Extents => (FiemapExtent*)((byte*)_buffer + sizeof(FiemapHeader));

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private bool Refill()
    {
        ObjectDisposedException.ThrowIf(_buffer is null, this);
        if (_sawLast || _next >= _end)
            return false;
        _buffer->fm_start = _next;
        _buffer->fm_length = _end - _next;
        // Only the first call needs to flush; later batches see the same, already synced mapping.
        _buffer->fm_flags = Calls == 0 ? _requestFlags : 0;
        _buffer->fm_mapped_extents = 0;
        _buffer->fm_extent_count = (uint)_batch;
        _buffer->fm_reserved = 0;
        ulong start = _next;
        _file.Fiemap(_buffer);
        Calls++;
        _mapped = (int)_buffer->fm_mapped_extents;
        _index = 0;
        if (_mapped > 0)
        {
            var last = Extents + (_mapped - 1);
            // A batch that ends where it began would be asked for again forever.
            if (last->fe_logical + last->fe_length <= start && (last->fe_flags & Fiemap.FIEMAP_EXTENT_LAST) == 0)
                throw new IOException($"FIEMAP {_file.Path}: no progress past file offset 0x{start:x}");
            // Where the next batch starts, and whether this one holds the file's last extent: taken
            // over the whole batch at once, while it is still in the cache.
            var e = Extents;
            ulong next = _next;
            uint flags = 0;
            for (int i = 0; i < _mapped; i++)
            {
                ulong end = e[i].fe_logical + e[i].fe_length;
                if (end > next)
                    next = end;
                flags |= e[i].fe_flags;
            }
            _next = next;
            if ((flags & Fiemap.FIEMAP_EXTENT_LAST) != 0)
                _sawLast = true;
        }
        return _mapped > 0;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_buffer is not null)
        {
            NativeMemory.Free(_buffer);
            _buffer = null;
        }
    }
}
