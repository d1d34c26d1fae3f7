using System.Collections.Immutable;

namespace XenVnvdimm.XenStore.Server;

/// <summary>
/// One node, immutable: a change makes a new node with a new generation, so a transaction can
/// hold the node it saw and a commit can tell whether anything changed since.
/// </summary>
internal sealed record Node(byte[] Value, XenStorePermissions Permissions, ImmutableArray<string> Children, long Generation);

/// <summary>The identity a request runs as: a domain id and whether it is privileged (dom0).</summary>
internal readonly record struct Caller(ushort DomainId, bool Privileged)
{
    public static Caller Dom0 { get; } = new(0, true);

    public bool Can(XenStorePermissions permissions, XenStoreAccess need) =>
        Privileged || (permissions.AccessOf(DomainId) & need) == need;

    public bool Owns(XenStorePermissions permissions) => Privileged || permissions.Owner == DomainId;
}

/// <summary>A modification to report to watchers once it is visible (at once, or at commit).</summary>
/// <param name="Path">Absolute path of the change, or a special path.</param>
/// <param name="Permissions">Permissions of the node, deciding who may be told.</param>
/// <param name="Removal">A recursive removal: watches below <paramref name="Path"/> fire too.</param>
internal sealed record Change(string Path, XenStorePermissions Permissions, bool Removal);
