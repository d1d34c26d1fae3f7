namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>A set of frame numbers stored as merged ranges (Xen's rangeset, e.g. iomem_caps).</summary>
internal sealed class SimRangeSet
{
    private readonly RangeMap<byte> _map = new();

    /// <summary>Number of stored ranges.</summary>
    public int RangeCount => _map.Count;

    /// <summary>The set's ranges, ascending.</summary>
    public IEnumerable<(ulong First, ulong Count)> Ranges => _map.All.Select(e => (e.Start, e.Count));

    /// <summary>Adds [first, first + count).</summary>
    public void Add(ulong first, ulong count)
    {
        ulong start = first, end = first + count;
        foreach (var e in _map.Overlapping(first == 0 ? 0 : first - 1, end + 1))
        {
            _map.Remove(e.Start);
            start = Math.Min(start, e.Start);
            end = Math.Max(end, e.End);
        }
        _map.Add(new RangeEntry<byte>(start, end - start, 0));
    }

    /// <summary>Removes [first, first + count).</summary>
    public void Remove(ulong first, ulong count)
    {
        ulong end = first + count;
        foreach (var e in _map.Overlapping(first, end))
        {
            _map.Remove(e.Start);
            if (e.Start < first)
                _map.Add(new RangeEntry<byte>(e.Start, first - e.Start, 0));
            if (e.End > end)
                _map.Add(new RangeEntry<byte>(end, e.End - end, 0));
        }
    }

    /// <summary>True when every frame of [first, last] is in the set.</summary>
    public bool ContainsAll(ulong first, ulong last)
    {
        ulong at = first;
        foreach (var e in _map.Overlapping(first, last + 1))
        {
            if (e.Start > at)
                return false;
            at = e.End;
            if (at > last)
                return true;
        }
        return at > last;
    }
}
