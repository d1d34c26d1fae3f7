using System.IO.MemoryMappedFiles;

namespace XenVnvdimm.DeviceModel.Platforms.Qemu;

/// <summary>
/// The DSM mailbox page inside the guest's RAM file, mapped shared so the companion sees the
/// guest's writes and the guest sees ours (QEMU maps the same file with share=on).
/// </summary>
internal sealed unsafe class MailboxMapping : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _page;

    public MailboxMapping(string ramFile, ulong offset, int size)
    {
        _file = MemoryMappedFile.CreateFromFile(ramFile, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        try
        {
            _view = _file.CreateViewAccessor((long)offset, size, MemoryMappedFileAccess.ReadWrite);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _page = p + _view.PointerOffset;
            Size = size;
        }
        catch
        {
            _view?.Dispose();
            _file.Dispose();
            throw;
        }
    }

    public int Size { get; }

    /// <summary>The page; guest-writable at any time, so callers copy before they validate.</summary>
    public Span<byte> Page => new(_page, Size);

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
