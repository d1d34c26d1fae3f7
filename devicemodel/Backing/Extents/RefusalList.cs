namespace XenVnvdimm.DeviceModel.Backing.Extents;

/// <summary>
/// Collects refusals, merging a refusal into the previous one when it has the same reason and
/// starts where that one ended, and keeping at most <see cref="Limit"/> entries so a file of a
/// million bad extents cannot exhaust memory; the total is still counted.
/// </summary>
internal sealed class RefusalList
{
    public const int Limit = 1000;
    private readonly List<Refusal> _items = [];

    /// <summary>Refusals kept.</summary>
    public IReadOnlyList<Refusal> Items => _items;

    /// <summary>All refusals seen, merged ones counted once.</summary>
    public long Total { get; private set; }

    public void Add(Refusal refusal)
    {
        if (_items.Count > 0 && _items[^1] is { } last && last.Reason == refusal.Reason && last.End == refusal.Start && last.Detail == refusal.Detail)
        {
            _items[^1] = last with { End = refusal.End };
            return;
        }
        Total++;
        if (_items.Count < Limit)
            _items.Add(refusal);
    }
}
