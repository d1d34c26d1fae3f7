using System.Collections.Immutable;

namespace XenVnvdimm.XenStore.Server;

/// <summary>The live tree: absolute path → node. Guarded by the server's lock.</summary>
internal sealed class NodeTree : INodeView
{
    private readonly Dictionary<string, Node> _nodes = new(StringComparer.Ordinal);
    private long _generation;

    public NodeTree()
    {
        // The layout xenstored starts with.
        _nodes["/"] = new Node([], XenStorePermissions.Dom0Only, ["tool"], NextGeneration());
        _nodes["/tool"] = new Node([], XenStorePermissions.Dom0Only, ["xenstored"], NextGeneration());
        _nodes["/tool/xenstored"] = new Node([], XenStorePermissions.Dom0Only, ImmutableArray<string>.Empty, NextGeneration());
    }

    public int Count => _nodes.Count;

    public Node? Get(string path) => _nodes.GetValueOrDefault(path);

    public void Put(string path, Node node) => _nodes[path] = node;

    public void Delete(string path) => _nodes.Remove(path);

    public long NextGeneration() => ++_generation;
}
