using System.Collections.Immutable;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.XenStore.Server;

/// <summary>
/// The semantics of the node requests (docs/misc/xenstore.txt), on any <see cref="INodeView"/>,
/// for one caller. Each method returns null on success or the errno to send; changes are appended
/// to <see cref="_changes"/> for the watch machinery.
/// </summary>
internal sealed class NodeOperations(INodeView view, Caller caller, XenStoreServerOptions options, List<Change> changes)
{
    private readonly List<Change> _changes = changes;

    public XenStoreErrno? Read(string path, out byte[] value)
    {
        value = [];
        var error = Lookup(path, XenStoreAccess.Read, out var node);
        if (error is null)
            value = node!.Value;
        return error;
    }

    public XenStoreErrno? Directory(string path, out Node? node) => Lookup(path, XenStoreAccess.Read, out node);

    public XenStoreErrno? GetPermissions(string path, out XenStorePermissions permissions)
    {
        permissions = XenStorePermissions.Dom0Only;
        var error = Lookup(path, XenStoreAccess.Read, out var node);
        if (error is null)
            permissions = node!.Permissions;
        return error;
    }

    public XenStoreErrno? Write(string path, byte[] value)
    {
        var node = view.Get(path);
        if (node is null)
            return Create(path, value);
        if (!caller.Can(node.Permissions, XenStoreAccess.Write))
            return XenStoreErrno.EACCES;
        if (OverQuota(value.Length, node.Permissions))
            return XenStoreErrno.ENOSPC;
        view.Put(path, node with { Value = value, Generation = view.NextGeneration() });
        _changes.Add(new Change(path, node.Permissions, Removal: false));
        return null;
    }

    public XenStoreErrno? Mkdir(string path)
    {
        var node = view.Get(path);
        if (node is null)
            return Create(path, []);
        return caller.Can(node.Permissions, XenStoreAccess.Write) ? null : XenStoreErrno.EACCES;
    }

    public XenStoreErrno? Remove(string path)
    {
        if (path == "/")
            return XenStoreErrno.EINVAL;
        var node = view.Get(path);
        if (node is null)
        {
            // Not an error, unless the parent is missing too (or unreadable).
            var parentError = Lookup(XsPath.Parent(path), XenStoreAccess.Read, out _);
            return parentError;
        }
        if (!caller.Can(node.Permissions, XenStoreAccess.Write))
            return XenStoreErrno.EACCES;
        DeleteTree(path, node);
        string parentPath = XsPath.Parent(path);
        var parent = view.Get(parentPath)!;
        view.Put(parentPath, parent with { Children = parent.Children.Remove(XsPath.Name(path), StringComparer.Ordinal), Generation = view.NextGeneration() });
        _changes.Add(new Change(path, node.Permissions, Removal: true));
        return null;
    }

    public XenStoreErrno? SetPermissions(string path, XenStorePermissions permissions)
    {
        var error = Lookup(path, XenStoreAccess.Write, out var node);
        if (error is not null)
            return error;
        if (!caller.Owns(node!.Permissions))
            return XenStoreErrno.EACCES;
        // Only the privileged may give a node away (xenstored answers EPERM).
        if (!caller.Privileged && permissions.Owner != node.Permissions.Owner)
            return XenStoreErrno.EPERM;
        if (OverQuota(node.Value.Length, permissions))
            return XenStoreErrno.ENOSPC;
        view.Put(path, node with { Permissions = permissions, Generation = view.NextGeneration() });
        _changes.Add(new Change(path, permissions, Removal: false));
        return null;
    }

    /// <summary>
    /// Finds a node the caller may access. A missing node is ENOENT, unless the caller may not read
    /// its nearest existing ancestor: then EACCES, so existence does not leak.
    /// </summary>
    private XenStoreErrno? Lookup(string path, XenStoreAccess need, out Node? node)
    {
        node = view.Get(path);
        if (node is not null)
            return caller.Can(node.Permissions, need) ? null : XenStoreErrno.EACCES;
        string p = path;
        Node? ancestor;
        do
        {
            p = XsPath.Parent(p);
            ancestor = view.Get(p);
        }
        while (ancestor is null && p != "/");
        return ancestor is not null && !caller.Can(ancestor.Permissions, XenStoreAccess.Read) ? XenStoreErrno.EACCES : XenStoreErrno.ENOENT;
    }

    // Creates the node and any missing parents, which inherit their parent's permissions; nodes
    // an unprivileged domain creates are owned by it. Needs write access to the nearest existing ancestor.
    private XenStoreErrno? Create(string path, byte[] value)
    {
        var missing = new Stack<string>();
        string p = path;
        Node? ancestor;
        do
        {
            missing.Push(p);
            p = XsPath.Parent(p);
            ancestor = view.Get(p);
        }
        while (ancestor is null);
        if (!caller.Can(ancestor.Permissions, XenStoreAccess.Write))
            return XenStoreErrno.EACCES;
        var permissions = caller.Privileged ? ancestor.Permissions : ancestor.Permissions.WithOwner(caller.DomainId);
        if (OverQuota(value.Length, permissions))
            return XenStoreErrno.ENOSPC;

        string parentPath = p;
        Node parent = ancestor;
        while (missing.TryPop(out var childPath))
        {
            var child = new Node(childPath == path ? value : [], permissions, ImmutableArray<string>.Empty, view.NextGeneration());
            view.Put(childPath, child);
            view.Put(parentPath, parent with { Children = parent.Children.Add(XsPath.Name(childPath)), Generation = view.NextGeneration() });
            parentPath = childPath;
            parent = child;
        }
        _changes.Add(new Change(path, permissions, Removal: false));
        return null;
    }

    private void DeleteTree(string path, Node node)
    {
        foreach (var name in node.Children)
        {
            string childPath = XsPath.Combine(path, name);
            var child = view.Get(childPath);
            if (child is not null)
                DeleteTree(childPath, child);
        }
        view.Delete(path);
    }

    // Quotas bind unprivileged domains only, as in xenstored.
    private bool OverQuota(int valueLength, XenStorePermissions permissions) =>
        !caller.Privileged && valueLength + permissions.WireSize > options.NodeSizeQuota;
}
