using System.Globalization;
using System.Text;

namespace XenVnvdimm.XenStore;

/// <summary>Access rights in a xenstore permission entry.</summary>
[Flags]
public enum XenStoreAccess
{
    /// <summary>No access ('n').</summary>
    None = 0,
    /// <summary>Read only ('r').</summary>
    Read = 1,
    /// <summary>Write only ('w').</summary>
    Write = 2,
    /// <summary>Read and write ('b').</summary>
    Both = Read | Write,
}

/// <summary>One access-list entry: a domain and what it may do.</summary>
/// <param name="DomainId">The domain.</param>
/// <param name="Access">Its rights.</param>
public readonly record struct XenStoreAclEntry(ushort DomainId, XenStoreAccess Access);

/// <summary>
/// A node's permissions: the owning domain (which always has full access), the access of every
/// domain not listed, and an access list. On the wire this is <c>"&lt;others&gt;&lt;owner&gt;"</c>
/// followed by one <c>"&lt;access&gt;&lt;domid&gt;"</c> per entry, e.g. <c>n0 r5</c>.
/// </summary>
public sealed class XenStorePermissions : IEquatable<XenStorePermissions>
{
    /// <summary>Creates permissions from owner, default access and access list.</summary>
    public XenStorePermissions(ushort owner, XenStoreAccess others, IEnumerable<XenStoreAclEntry>? acl = null)
    {
        Owner = owner;
        Others = others;
        Acl = (acl ?? []).ToArray();
    }

    /// <summary>The owning domain.</summary>
    public ushort Owner { get; }

    /// <summary>Access of domains neither owner nor listed.</summary>
    public XenStoreAccess Others { get; }

    /// <summary>Per-domain entries after the first.</summary>
    public IReadOnlyList<XenStoreAclEntry> Acl { get; }

    /// <summary>Owned by dom0, nobody else may access: xenstored's default for the root.</summary>
    public static XenStorePermissions Dom0Only { get; } = new(0, XenStoreAccess.None);

    /// <summary>What <paramref name="domainId"/> may do (owner: everything), ignoring privilege.</summary>
    public XenStoreAccess AccessOf(ushort domainId)
    {
        if (domainId == Owner)
            return XenStoreAccess.Both;
        foreach (var e in Acl)
        {
            if (e.DomainId == domainId)
                return e.Access;
        }
        return Others;
    }

    /// <summary>The same permissions with another owner.</summary>
    public XenStorePermissions WithOwner(ushort owner) => new(owner, Others, Acl);

    /// <summary>The wire strings, e.g. ["n0", "r5"].</summary>
    public IReadOnlyList<string> ToStrings()
    {
        var list = new List<string>(1 + Acl.Count) { Format(Others, Owner) };
        foreach (var e in Acl)
            list.Add(Format(e.Access, e.DomainId));
        return list;
    }

    /// <summary>Parses wire strings; the first names owner and default access.</summary>
    /// <exception cref="FormatException">An entry is not <c>[wrbn]&lt;domid&gt;</c> or the list is empty.</exception>
    public static XenStorePermissions Parse(IReadOnlyList<string> entries)
    {
        if (entries.Count == 0)
            throw new FormatException("a permission list needs at least the owner entry");
        var (ownerAccess, owner) = ParseEntry(entries[0]);
        var acl = new List<XenStoreAclEntry>(entries.Count - 1);
        for (int i = 1; i < entries.Count; i++)
        {
            var (access, domid) = ParseEntry(entries[i]);
            acl.Add(new XenStoreAclEntry(domid, access));
        }
        return new XenStorePermissions(owner, ownerAccess, acl);
    }

    /// <summary>Parses a space-separated list such as <c>"n0 r5"</c>.</summary>
    public static XenStorePermissions Parse(string entries) =>
        Parse(entries.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    private static (XenStoreAccess, ushort) ParseEntry(string entry)
    {
        if (entry.Length < 2)
            throw new FormatException($"bad permission '{entry}'");
        var access = entry[0] switch
        {
            'n' => XenStoreAccess.None,
            'r' => XenStoreAccess.Read,
            'w' => XenStoreAccess.Write,
            'b' => XenStoreAccess.Both,
            _ => throw new FormatException($"bad permission letter in '{entry}'"),
        };
        var digits = entry.AsSpan(1);
        foreach (char c in digits)
        {
            if (!char.IsAsciiDigit(c))
                throw new FormatException($"bad domain id in permission '{entry}'");
        }
        if (!ushort.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out ushort domid))
            throw new FormatException($"domain id out of range in permission '{entry}'");
        return (access, domid);
    }

    private static string Format(XenStoreAccess access, ushort domid)
    {
        char letter = access switch
        {
            XenStoreAccess.Read => 'r',
            XenStoreAccess.Write => 'w',
            XenStoreAccess.Both => 'b',
            _ => 'n',
        };
        return letter + domid.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Number of bytes the permissions take on the wire (for node-size quotas).</summary>
    public int WireSize => ToStrings().Sum(s => s.Length + 1);

    /// <inheritdoc/>
    public bool Equals(XenStorePermissions? other) =>
        other is not null && Owner == other.Owner && Others == other.Others && Acl.SequenceEqual(other.Acl);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as XenStorePermissions);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Owner, Others, Acl.Count);

    /// <summary>Space-separated wire form, e.g. <c>n0 r5</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var s in ToStrings())
            sb.Append(sb.Length == 0 ? "" : " ").Append(s);
        return sb.ToString();
    }
}
