namespace XenVnvdimm.DeviceModel.Backing.Extents;

/// <summary>
/// Turns a file's extents, in file order, into coalesced runs: physically contiguous records become
/// one run, and every hole, refused flag or misaligned extent becomes a <see cref="Refusal"/> naming
/// its file offset range. Nothing is buffered beyond the run being grown.
/// </summary>
internal sealed class RunBuilder
{
    private const ulong Page = ResolvedRun.PageSize;
    private readonly ulong _size;
    private readonly ulong _deviceBase;
    private readonly IRunSink _sink;
    private readonly RefusalList _refusals;
    private ulong _pos;
    private ulong _runFile, _runDevice, _runLength;

    /// <param name="size">File size: extents are clipped to it and anything missing below it is a hole.</param>
    /// <param name="deviceBase">Added to each extent's physical offset (the partition's start on its disk).</param>
    /// <param name="sink">Receives the runs.</param>
    /// <param name="refusals">Receives the refusals.</param>
    public RunBuilder(ulong size, ulong deviceBase, IRunSink sink, RefusalList refusals)
    {
        _size = size;
        _deviceBase = deviceBase;
        _sink = sink;
        _refusals = refusals;
    }

    /// <summary>Extents seen, including refused ones.</summary>
    public long Extents { get; private set; }

    /// <summary>Runs emitted.</summary>
    public long Runs { get; private set; }

    /// <summary>Feeds the next extent; extents must come in increasing file order.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Add(in FileExtent e)
    {
        if (e.Logical >= _size)
            return; // preallocated beyond EOF: never mapped
        Extents++;
        ulong start = e.Logical;
        ulong end = Math.Min(e.Logical + e.Length, _size);
        if (start < _pos)
        {
            // FIEMAP never reports overlapping extents of a stable file.
            _refusals.Add(new Refusal(RefusalReason.Changed, start, end, "extents overlap: the file changed during FIEMAP"));
            _pos = Math.Max(_pos, end);
            return;
        }
        if (start > _pos)
            Refuse(RefusalReason.Hole, _pos, start, "hole (no blocks allocated)");

        var reason = ExtentFlags.Refusal(e.Flags);
        if (reason is { } r)
            Refuse(r, start, end, $"extent flags {ExtentFlags.Describe(e.Flags & ~ExtentFlags.Harmless)}");
        else if (start % Page != 0 || e.Physical % Page != 0 || (end - start) % Page != 0)
            Refuse(RefusalReason.NotAligned, start, end, $"extent at device byte 0x{e.Physical:x} is not 4 KiB aligned");
        else
            Accept(start, _deviceBase + e.Physical, end - start);
        _pos = end;
    }

    /// <summary>Ends the stream: flushes the last run and reports a trailing hole.</summary>
    public void Finish()
    {
        Flush();
        if (_pos < _size)
        {
            Refuse(RefusalReason.Hole, _pos, _size, "hole (no blocks allocated)");
            _pos = _size;
        }
    }

    private void Accept(ulong file, ulong device, ulong length)
    {
        if (_runLength != 0 && _runFile + _runLength == file && _runDevice + _runLength == device)
        {
            _runLength += length;
            return;
        }
        Flush();
        (_runFile, _runDevice, _runLength) = (file, device, length);
    }

    private void Refuse(RefusalReason reason, ulong start, ulong end, string detail)
    {
        Flush();
        _refusals.Add(new Refusal(reason, start, end, detail));
    }

    private void Flush()
    {
        if (_runLength == 0)
            return;
        _sink.Add(new ResolvedRun(_runFile, _runDevice, _runLength));
        Runs++;
        _runLength = 0;
    }
}
