namespace XenVnvdimm.XenStore.Server;

/// <summary>
/// A transaction's view: its own changes overlay the live tree, and the generation of every live
/// node it looked at is remembered. Commit succeeds only if none of those nodes changed since
/// (finer than "any intervening write", as xenstored has done since Xen 4.9).
/// </summary>
internal sealed class TransactionView : INodeView
{
    private readonly NodeTree _live;
    private readonly Dictionary<string, Node?> _overlay = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _seen = new(StringComparer.Ordinal);

    public TransactionView(NodeTree live)
    {
        _live = live;
    }

    /// <summary>Changes made in the transaction, reported to watchers at commit.</summary>
    public List<Change> Changes { get; } = [];

    public Node? Get(string path)
    {
        if (_overlay.TryGetValue(path, out var mine))
            return mine;
        Remember(path);
        return _live.Get(path);
    }

    public void Put(string path, Node node)
    {
        Remember(path);
        _overlay[path] = node;
    }

    public void Delete(string path)
    {
        Remember(path);
        _overlay[path] = null;
    }

    public long NextGeneration() => _live.NextGeneration();

    private void Remember(string path)
    {
        if (!_seen.ContainsKey(path))
            _seen[path] = _live.Get(path)?.Generation ?? -1;
    }

    /// <summary>True when a node this transaction used has changed in the live tree.</summary>
    public bool Conflicts()
    {
        foreach (var (path, generation) in _seen)
        {
            if ((_live.Get(path)?.Generation ?? -1) != generation)
                return true;
        }
        return false;
    }

    /// <summary>Makes the transaction's changes live, each with a new generation.</summary>
    public void Apply()
    {
        foreach (var (path, node) in _overlay)
        {
            if (node is null)
                _live.Delete(path);
            else
                _live.Put(path, node with { Generation = _live.NextGeneration() });
        }
    }
}
