namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>One entry of a <see cref="RangeMap{T}"/>: [Start, Start + Count) carrying a value.</summary>
internal readonly record struct RangeEntry<T>(ulong Start, ulong Count, T Value)
{
    /// <summary>One past the last key.</summary>
    public ulong End => Start + Count;
}

/// <summary>
/// Non-overlapping ranges sorted by start, kept in buckets of at most <see cref="BucketSize"/> entries so
/// that lookup, insertion and removal stay cheap with millions of entries (a p2m of fragmented runs).
/// </summary>
internal sealed class RangeMap<T>
{
    private const int BucketSize = 512;
    private readonly List<List<RangeEntry<T>>> _buckets = [];

    /// <summary>Number of ranges.</summary>
    public int Count { get; private set; }

    /// <summary>All ranges in ascending order.</summary>
    public IEnumerable<RangeEntry<T>> All => _buckets.SelectMany(b => b);

    /// <summary>The ranges that intersect [start, end), in order.</summary>
    public List<RangeEntry<T>> Overlapping(ulong start, ulong end)
    {
        var result = new List<RangeEntry<T>>();
        var (b, i) = Floor(start);
        if (b < 0)
            (b, i) = (0, 0);
        for (; b < _buckets.Count; b++, i = 0)
        {
            var bucket = _buckets[b];
            for (; i < bucket.Count; i++)
            {
                var e = bucket[i];
                if (e.Start >= end)
                    return result;
                if (e.End > start)
                    result.Add(e);
            }
        }
        return result;
    }

    /// <summary>The range containing <paramref name="key"/>, if any.</summary>
    public RangeEntry<T>? Find(ulong key)
    {
        var (b, i) = Floor(key);
        if (b < 0)
            return null;
        var e = _buckets[b][i];
        return key < e.End ? e : null;
    }

    /// <summary>The range immediately before <paramref name="key"/> (greatest start &lt; key), if any.</summary>
    public RangeEntry<T>? Before(ulong key) => key == 0 ? null : Floor(key - 1) is var (b, i) && b >= 0 ? _buckets[b][i] : null;

    /// <summary>The range starting exactly at <paramref name="key"/>, if any.</summary>
    public RangeEntry<T>? StartingAt(ulong key) => Find(key) is { } e && e.Start == key ? e : null;

    /// <summary>Adds a range; the caller guarantees it overlaps none.</summary>
    public void Add(RangeEntry<T> entry)
    {
        var (b, i) = Floor(entry.Start);
        if (_buckets.Count == 0)
        {
            _buckets.Add([entry]);
        }
        else if (b < 0)
        {
            _buckets[0].Insert(0, entry);
            b = 0;
        }
        else
        {
            _buckets[b].Insert(i + 1, entry);
        }
        Count++;
        if (b >= 0 && b < _buckets.Count && _buckets[b].Count > 2 * BucketSize)
        {
            var tail = _buckets[b].GetRange(BucketSize, _buckets[b].Count - BucketSize);
            _buckets[b].RemoveRange(BucketSize, tail.Count);
            _buckets.Insert(b + 1, tail);
        }
    }

    /// <summary>Removes the range starting at <paramref name="start"/>.</summary>
    public bool Remove(ulong start)
    {
        var (b, i) = Floor(start);
        if (b < 0 || _buckets[b][i].Start != start)
            return false;
        _buckets[b].RemoveAt(i);
        if (_buckets[b].Count == 0)
            _buckets.RemoveAt(b);
        Count--;
        return true;
    }

    /// <summary>Replaces the range starting at <paramref name="start"/> (same start, new count/value).</summary>
    public void Replace(ulong start, RangeEntry<T> entry)
    {
        var (b, i) = Floor(start);
        if (b < 0 || _buckets[b][i].Start != start || entry.Start != start)
            throw new InvalidOperationException("no such range");
        _buckets[b][i] = entry;
    }

    // Position of the entry with the greatest start <= key, or (-1, -1).
    private (int Bucket, int Index) Floor(ulong key)
    {
        int lo = 0, hi = _buckets.Count - 1, b = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_buckets[mid][0].Start <= key)
            {
                b = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        if (b < 0)
            return (-1, -1);
        var bucket = _buckets[b];
        lo = 0;
        hi = bucket.Count - 1;
        int idx = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (bucket[mid].Start <= key)
            {
                idx = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return (b, idx);
    }
}
