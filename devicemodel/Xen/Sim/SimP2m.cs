namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>
/// A domain's guest-physical → machine map stored as ranges (never per page), coalescing neighbours that
/// continue each other. It refuses overlapping different mappings like Xen does (-EBUSY) and accepts an
/// identical re-mapping as a no-op, which is what makes a restarted hypercall safe.
/// </summary>
internal sealed class SimP2m
{
    private readonly RangeMap<P2mTarget> _map = new();

    /// <summary>Number of stored ranges.</summary>
    public int RangeCount => _map.Count;

    /// <summary>Total mapped guest frames.</summary>
    public ulong MappedFrames { get; private set; }

    /// <summary>All ranges, ascending by guest frame.</summary>
    public IEnumerable<RangeEntry<P2mTarget>> Ranges => _map.All;

    /// <summary>The ranges intersecting [gfn, gfn + count), ascending.</summary>
    public List<RangeEntry<P2mTarget>> Overlapping(ulong gfn, ulong count) => _map.Overlapping(gfn, gfn + count);

    /// <summary>The machine frame and attributes of <paramref name="gfn"/>, if mapped.</summary>
    public P2mTarget? Lookup(ulong gfn) =>
        _map.Find(gfn) is { } e ? e.Value with { Mfn = e.Value.Mfn + (gfn - e.Start) } : null;

    /// <summary>
    /// First guest frame in [gfn, gfn + count) whose existing entry differs from mapping it to
    /// mfn + offset with this type, or null when the whole range can be mapped.
    /// </summary>
    public ulong? FirstConflict(ulong gfn, ulong mfn, ulong count, P2mType type)
    {
        foreach (var e in _map.Overlapping(gfn, gfn + count))
        {
            ulong at = Math.Max(e.Start, gfn);
            bool same = e.Value.Type == type && e.Value.Mfn + (at - e.Start) == mfn + (at - gfn);
            if (!same)
                return at;
        }
        return null;
    }

    /// <summary>Maps [gfn, gfn + count) → mfn; the caller checked <see cref="FirstConflict"/>.</summary>
    public void Map(ulong gfn, ulong mfn, ulong count, P2mType type, CacheAttr cache)
    {
        var target = new P2mTarget(mfn, type, cache);
        // Identical existing pieces are absorbed: remove them, then insert the union.
        ulong start = gfn, end = gfn + count;
        foreach (var e in _map.Overlapping(gfn, end))
        {
            _map.Remove(e.Start);
            MappedFrames -= e.Count;
            if (e.Start < start)
            {
                target = target with { Mfn = mfn - (gfn - e.Start) };
                start = e.Start;
            }
            end = Math.Max(end, e.End);
        }
        // Coalesce with the neighbour before and after when they continue this range.
        if (_map.Before(start) is { } prev && prev.End == start && prev.Value.Type == type && prev.Value.Cache == cache
            && prev.Value.Mfn + prev.Count == target.Mfn)
        {
            _map.Remove(prev.Start);
            MappedFrames -= prev.Count;
            start = prev.Start;
            target = prev.Value;
        }
        if (_map.StartingAt(end) is { } next && next.Value.Type == type && next.Value.Cache == cache
            && target.Mfn + (end - start) == next.Value.Mfn)
        {
            _map.Remove(next.Start);
            MappedFrames -= next.Count;
            end = next.End;
        }
        _map.Add(new RangeEntry<P2mTarget>(start, end - start, target));
        MappedFrames += end - start;
    }

    /// <summary>True when every frame of [gfn, gfn + count) is mapped with <paramref name="type"/>.</summary>
    public bool Covers(ulong gfn, ulong count, P2mType type)
    {
        // Fast path: one entry holds the whole range (the usual case for extents of a mapped run).
        if (_map.Find(gfn) is { } one && one.End >= gfn + count)
            return one.Value.Type == type;
        ulong at = gfn;
        foreach (var e in _map.Overlapping(gfn, gfn + count))
        {
            if (e.Start > at || e.Value.Type != type)
                return false;
            at = e.End;
        }
        return at >= gfn + count;
    }

    /// <summary>Removes every entry in [gfn, gfn + count), splitting entries at the edges.</summary>
    public void Unmap(ulong gfn, ulong count)
    {
        ulong end = gfn + count;
        // Fast path: cutting from the start of one entry (teardown in address order).
        if (_map.StartingAt(gfn) is { } first && first.End > end)
        {
            _map.Remove(first.Start);
            _map.Add(new RangeEntry<P2mTarget>(end, first.End - end, first.Value with { Mfn = first.Value.Mfn + count }));
            MappedFrames -= count;
            return;
        }
        foreach (var e in _map.Overlapping(gfn, end))
        {
            _map.Remove(e.Start);
            MappedFrames -= e.Count;
            if (e.Start < gfn)
                AddRaw(e.Start, gfn - e.Start, e.Value);
            if (e.End > end)
                AddRaw(end, e.End - end, e.Value with { Mfn = e.Value.Mfn + (end - e.Start) });
        }
    }

    private void AddRaw(ulong start, ulong count, P2mTarget target)
    {
        _map.Add(new RangeEntry<P2mTarget>(start, count, target));
        MappedFrames += count;
    }
}
