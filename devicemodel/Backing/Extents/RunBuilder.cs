using System.Runtime.CompilerServices;
using XenVnvdimm.DeviceModel.Backing.Kernel;

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
    // The two sinks of a resolution, called directly rather than through the interface.
    private readonly RunList? _list;
    private readonly RunComparer? _comparer;
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
        _list = sink as RunList;
        _comparer = sink as RunComparer;
        _refusals = refusals;
    }

    /// <summary>Extents seen, including refused ones.</summary>
    public long Extents { get; private set; }

    /// <summary>Runs emitted.</summary>
    public long Runs { get; private set; }

    /// <summary>
    /// Feeds a batch of kernel records, in increasing file order. The common record (mappable flags,
    /// page aligned, starting where the previous one ended) is handled here with the builder's state
    /// in registers; any other goes through <see cref="Add(in FileExtent)"/>, so the rules live there.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(ReadOnlySpan<FiemapExtent> batch)
    {
        ulong size = _size, deviceBase = _deviceBase, pos = _pos;
        ulong runFile = _runFile, runDevice = _runDevice, runLength = _runLength;
        long extents = Extents;
        foreach (ref readonly var x in batch)
        {
            ulong start = x.fe_logical;
            if (start >= size)
                continue; // preallocated beyond EOF: never mapped
            ulong physical = x.fe_physical;
            ulong end = Math.Min(start + x.fe_length, size);
            if (start == pos && (x.fe_flags & ~ExtentFlags.Harmless) == 0 && ((start | physical | (end - start)) & (Page - 1)) == 0)
            {
                extents++;
                ulong device = deviceBase + physical;
                if (runLength != 0 && runFile + runLength == start && runDevice + runLength == device)
                {
                    runLength += end - start;
                }
                else
                {
                    if (runLength != 0)
                        Emit(runFile, runDevice, runLength);
                    (runFile, runDevice, runLength) = (start, device, end - start);
                }
                pos = end;
                continue;
            }
            (_pos, _runFile, _runDevice, _runLength, Extents) = (pos, runFile, runDevice, runLength, extents);
            Add(new FileExtent(start, physical, x.fe_length, x.fe_flags));
            (pos, runFile, runDevice, runLength, extents) = (_pos, _runFile, _runDevice, _runLength, Extents);
        }
        (_pos, _runFile, _runDevice, _runLength, Extents) = (pos, runFile, runDevice, runLength, extents);
    }

    /// <summary>Feeds the next extent; extents must come in increasing file order.</summary>
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
        Emit(_runFile, _runDevice, _runLength);
        _runLength = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Emit(ulong file, ulong device, ulong length)
    {
        var run = new ResolvedRun(file, device, length);
        if (_list is { } list)
            list.Add(run);
        else if (_comparer is { } comparer)
            comparer.Add(run);
        else
            _sink.Add(run);
        Runs++;
    }
}
