using System.Collections;
using System.Runtime.CompilerServices;
using XenVnvdimm.DeviceModel.Backing.Kernel;

namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>
/// Append-only list of <see cref="ResolvedRun"/>s, stored compactly: each run as three varints
/// relative to the end of the run before it (file gap, device jump, length; in pages when page
/// aligned), so a run of a fragmented file takes 3 to 12 bytes instead of 24, and never more than
/// 24 for page-aligned runs below 2^64 bytes. A checkpoint every 64 runs gives the indexer a place to
/// start decoding. Both arrays are native memory reserved up front (<see cref="Reserve"/>, from the
/// most runs a file of its size can have) and committed as they fill (<see cref="ReservedMemory"/>):
/// no doubling copies and no zeroing by the GC, and memory that was never touched before is what
/// costs most when building a list (under a hypervisor each new page faults expensively).
/// </summary>
public sealed unsafe class RunList : IReadOnlyList<ResolvedRun>, Extents.IRunSink
{
    private const int CheckpointShift = 6; // a checkpoint every 64 runs
    private const int CheckpointMask = (1 << CheckpointShift) - 1;
    private const int MaxEncodedRun = 33; // 3 x (marker + 10-byte varint)
    private const int AlignedEncodedRun = 24; // 3 x 8-byte varint of a page count below 2^52, shifted left once
    private const ulong PageMask = ResolvedRun.PageSize - 1;
    private const int PageShift = 12;
    private const byte Raw = 1; // marker: the value is not page aligned; its full varint follows

    private ReservedMemory? _bytes;
    private ReservedMemory? _marks;
    private byte* _stream;
    private nuint _length;
    private nuint _writable;
    private Checkpoint* _checkpoints;
    private int _checkpointCapacity;
    private ulong _fileEnd, _deviceEnd;

    /// <summary>Where decoding may start: the stream offset of run 64k and the ends of run 64k-1.</summary>
    private struct Checkpoint
    {
        public ulong Offset;
        public ulong FileEnd;
        public ulong DeviceEnd;
    }

    /// <summary>A position in the stream: its offset (not a pointer: the stream may move) and the ends of the run before it.</summary>
    internal struct Cursor
    {
        public nuint Offset;
        public ulong FileEnd;
        public ulong DeviceEnd;
    }

    /// <summary>Number of runs.</summary>
    public int Count { get; private set; }

    /// <summary>The run at <paramref name="index"/> (decodes at most 64 runs from the nearest checkpoint).</summary>
    public ResolvedRun this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            var mark = _checkpoints[index >> CheckpointShift];
            var cursor = new Cursor { Offset = (nuint)mark.Offset, FileEnd = mark.FileEnd, DeviceEnd = mark.DeviceEnd };
            ResolvedRun run;
            int skip = index & CheckpointMask;
            do run = Read(ref cursor);
            while (skip-- > 0);
            return run;
        }
    }

    /// <summary>Bytes the encoded runs and their checkpoints take, without the commit slack.</summary>
    internal long EncodedBytes => (long)_length + (((long)Count + CheckpointMask) >> CheckpointShift) * sizeof(Checkpoint);

    /// <summary>Bytes of memory committed for the runs (what the list may hold resident).</summary>
    public long StorageBytes => (long)((_bytes?.Committed ?? 0) + (_marks?.Committed ?? 0));

    /// <summary>
    /// Reserves address space for <paramref name="maxRuns"/> page-aligned runs on an empty list, so
    /// that it never moves while it grows to that many (more still fit: the list then moves once per
    /// doubling). Only what is used is committed.
    /// </summary>
    internal void Reserve(long maxRuns)
    {
        if (_bytes is not null || maxRuns <= 0)
            return;
        maxRuns = Math.Min(maxRuns, int.MaxValue);
        _bytes = ReserveAtMost((nuint)maxRuns * AlignedEncodedRun + MaxEncodedRun);
        _stream = _bytes.Start;
        _marks = ReserveAtMost(((nuint)(maxRuns >> CheckpointShift) + 1) * (nuint)sizeof(Checkpoint));
        _checkpoints = (Checkpoint*)_marks.Start;
    }

    // A reservation is address space only, but a limit on it (ulimit -v) must not fail a large
    // file: then a smaller one, which the list outgrows by moving.
    private static ReservedMemory ReserveAtMost(nuint bytes)
    {
        const nuint fallback = 64 << 20;
        try
        {
            return ReservedMemory.Reserve(bytes);
        }
        catch (OutOfMemoryException) when (bytes > fallback)
        {
            return ReservedMemory.Reserve(fallback);
        }
    }

    /// <summary>Appends a run.</summary>
    // Out of line, so the extent loop that calls it keeps its state in registers; optimized from
    // the first call, as the loop is (a list is usually filled once per process).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public void Add(in ResolvedRun run)
    {
        int n = Count;
        if ((n & CheckpointMask) == 0 || _writable - _length < MaxEncodedRun)
            Prepare(n);
        byte* p = _stream + _length;
        p = PutDelta(p, run.FileOffset - _fileEnd);
        p = PutDelta(p, run.DeviceOffset - _deviceEnd);
        p = PutLength(p, run.Length);
        _length = (nuint)(p - _stream);
        _fileEnd = run.FileOffset + run.Length;
        _deviceEnd = run.DeviceOffset + run.Length;
        Count = n + 1;
    }

    /// <summary>A cursor at the first run.</summary>
    internal static Cursor First => default;

    /// <summary>Decodes the run at <paramref name="cursor"/>, which must be before the end, and moves past it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ResolvedRun Read(ref Cursor cursor)
    {
        byte* p = _stream + cursor.Offset;
        ulong file = cursor.FileEnd + GetDelta(ref p);
        ulong device = cursor.DeviceEnd + GetDelta(ref p);
        ulong length = GetLength(ref p);
        GC.KeepAlive(this); // the finalizer of the stream's memory must not free it mid-read
        cursor.Offset = (nuint)(p - _stream);
        cursor.FileEnd = file + length;
        cursor.DeviceEnd = device + length;
        return new ResolvedRun(file, device, length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte* PutDelta(byte* p, ulong delta)
    {
        if ((delta & PageMask) == 0)
        {
            long pages = (long)delta >> PageShift;
            return PutVarint(p, (ulong)((pages << 1) ^ (pages >> 63)) << 1);
        }
        *p++ = Raw;
        return PutVarint(p, (ulong)(((long)delta << 1) ^ ((long)delta >> 63)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte* PutLength(byte* p, ulong length)
    {
        if ((length & PageMask) == 0)
            return PutVarint(p, length >> PageShift << 1);
        *p++ = Raw;
        return PutVarint(p, length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte* PutVarint(byte* p, ulong v)
    {
        while (v >= 0x80)
        {
            *p++ = (byte)(v | 0x80);
            v >>= 7;
        }
        *p++ = (byte)v;
        return p;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong GetDelta(ref byte* p)
    {
        ulong u = GetVarint(ref p);
        if (u == Raw)
        {
            ulong zz = GetVarint(ref p);
            return (ulong)((long)(zz >> 1) ^ -(long)(zz & 1));
        }
        ulong zp = u >> 1;
        return (ulong)(((long)(zp >> 1) ^ -(long)(zp & 1)) << PageShift);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong GetLength(ref byte* p)
    {
        ulong u = GetVarint(ref p);
        return u == Raw ? GetVarint(ref p) : u >> 1 << PageShift;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong GetVarint(ref byte* p)
    {
        ulong b = *p++;
        if (b < 0x80)
            return b;
        ulong v = b & 0x7f;
        int shift = 7;
        do
        {
            b = *p++;
            v |= (b & 0x7f) << shift;
            shift += 7;
        }
        while (b >= 0x80);
        return v;
    }

    // Before run n: room for one more encoded run, and run n's checkpoint when it starts a group.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Prepare(int n)
    {
        if (n == int.MaxValue)
            throw new OutOfMemoryException("a run list holds at most 2^31-1 runs");
        if (_bytes is null)
            Reserve((long)(ReservedMemory.HeadStep / AlignedEncodedRun));
        if (_writable - _length < MaxEncodedRun)
        {
            Ensure(ref _bytes!, _length + MaxEncodedRun, _length);
            _stream = _bytes.Start;
            _writable = _bytes.Committed;
        }
        if ((n & CheckpointMask) == 0)
        {
            int k = n >> CheckpointShift;
            if (k == _checkpointCapacity)
            {
                Ensure(ref _marks!, (nuint)(k + 1) * (nuint)sizeof(Checkpoint), (nuint)k * (nuint)sizeof(Checkpoint));
                _checkpoints = (Checkpoint*)_marks.Start;
                _checkpointCapacity = (int)Math.Min(_marks.Committed / (nuint)sizeof(Checkpoint), int.MaxValue);
            }
            _checkpoints[k] = new Checkpoint { Offset = _length, FileEnd = _fileEnd, DeviceEnd = _deviceEnd };
        }
    }

    // Commits `need` bytes of `memory`, moving its first `used` bytes to a reservation twice as
    // large when it does not fit (rare: reservations are upper bounds).
    private static void Ensure(ref ReservedMemory memory, nuint need, nuint used)
    {
        if (memory.Commit(need))
            return;
        var bigger = ReserveAtMost(Math.Max(memory.Reserved * 2, need));
        if (!bigger.Commit(need))
            throw new OutOfMemoryException($"cannot reserve {need} bytes for a run list");
        Buffer.MemoryCopy(memory.Start, bigger.Start, (long)bigger.Committed, (long)used);
        memory.Dispose();
        memory = bigger;
    }

    /// <inheritdoc/>
    public IEnumerator<ResolvedRun> GetEnumerator()
    {
        var cursor = First;
        for (int i = 0; i < Count; i++)
            yield return Read(ref cursor);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
