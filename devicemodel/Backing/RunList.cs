using System.Collections;

namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>
/// Append-only list of <see cref="ResolvedRun"/>s in fixed-size chunks: no doubling copies, so the
/// memory held stays within one chunk of 24 bytes per run however many runs there are.
/// </summary>
public sealed class RunList : IReadOnlyList<ResolvedRun>, Extents.IRunSink
{
    private const int ChunkShift = 11; // 2048 runs = 48 KiB per chunk, below the large object heap
    private const int ChunkSize = 1 << ChunkShift;
    private readonly List<ResolvedRun[]> _chunks = [];

    /// <summary>Number of runs.</summary>
    public int Count { get; private set; }

    /// <summary>The run at <paramref name="index"/>.</summary>
    public ResolvedRun this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return _chunks[index >> ChunkShift][index & (ChunkSize - 1)];
        }
    }

    /// <summary>Bytes held by the run storage (excluding the small chunk index).</summary>
    public long StorageBytes => (long)_chunks.Count * ChunkSize * System.Runtime.CompilerServices.Unsafe.SizeOf<ResolvedRun>();

    /// <summary>Appends a run.</summary>
    public void Add(in ResolvedRun run)
    {
        int slot = Count & (ChunkSize - 1);
        if (slot == 0)
            _chunks.Add(new ResolvedRun[ChunkSize]);
        _chunks[^1][slot] = run;
        Count++;
    }

    /// <inheritdoc/>
    public IEnumerator<ResolvedRun> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
            yield return _chunks[i >> ChunkShift][i & (ChunkSize - 1)];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
