using XenVnvdimm.XenStore;

namespace XenVnvdimm.DeviceModel.Lifecycle;

/// <summary>
/// Decides whether the command node may be trusted: a command can name backends and label files,
/// so acting on it writes files as root. Only dom0 may be able to read or write the node; any
/// other domain with any access — as owner, through the default ("others") access or through an
/// access-list entry — could have written (or watched) the command.
/// </summary>
public static class CommandNodeGuard
{
    /// <summary>The permissions the companion gives the node: owned by dom0, no access for anyone else.</summary>
    public static XenStorePermissions Required => XenStorePermissions.Dom0Only;

    /// <summary>Null when only dom0 has access; otherwise the refusal, naming the permission found.</summary>
    public static string? Check(XenStorePermissions permissions)
    {
        ArgumentNullException.ThrowIfNull(permissions);
        string all = permissions.ToString();
        string first = permissions.ToStrings()[0];
        if (permissions.Owner != 0)
            return Refusal($"owned by domain {permissions.Owner}", first, all);
        if (permissions.Others != XenStoreAccess.None)
            return Refusal($"{Describe(permissions.Others)} by every domain not listed", first, all);
        var entries = permissions.ToStrings();
        for (int i = 0; i < permissions.Acl.Count; i++)
        {
            var e = permissions.Acl[i];
            if (e.DomainId != 0 && e.Access != XenStoreAccess.None)
                return Refusal($"{Describe(e.Access)} by domain {e.DomainId}", entries[i + 1], all);
        }
        return null;
    }

    private static string Refusal(string what, string entry, string all) =>
        $"refusing to act: the command node is {what} (permission '{entry}' in '{all}'); it must be dom0-only ('{Required}')";

    private static string Describe(XenStoreAccess a) => a switch
    {
        XenStoreAccess.Read => "readable",
        XenStoreAccess.Write => "writable",
        _ => "readable and writable",
    };
}
