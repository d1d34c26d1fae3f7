namespace XenVnvdimm.XenStore.Wire;

/// <summary>Path syntax rules of docs/misc/xenstore.txt.</summary>
public static class XsPath
{
    /// <summary>
    /// True when <paramref name="path"/> is a valid node path: absolute (≤ 3072 bytes) or relative
    /// (≤ 2048 bytes), only <c>A-Za-z0-9-/_@</c>, no doubled or trailing slash (except the root).
    /// </summary>
    public static bool IsValid(string path)
    {
        if (path.Length == 0)
            return false;
        bool absolute = path[0] == '/';
        if (path.Length > (absolute ? XsLimits.AbsolutePathMax : XsLimits.RelativePathMax))
            return false;
        if (path == "/")
            return true;
        if (path[^1] == '/' || path.Contains("//", StringComparison.Ordinal))
            return false;
        foreach (char c in path)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '/' or '_' or '@'))
                return false;
        }
        return true;
    }

    /// <summary>True for a special watch path such as <c>@releaseDomain</c>.</summary>
    public static bool IsSpecial(string path) => path.Length > 1 && path[0] == '@' && IsValid(path);

    /// <summary>True when <paramref name="child"/> is <paramref name="parent"/> or lies below it.</summary>
    public static bool IsChildOf(string child, string parent)
    {
        if (parent == "/")
            return child.StartsWith('/');
        return child.StartsWith(parent, StringComparison.Ordinal)
               && (child.Length == parent.Length || child[parent.Length] == '/');
    }

    /// <summary>The parent of an absolute path ("/" for top-level nodes).</summary>
    public static string Parent(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }

    /// <summary>The last component of an absolute path.</summary>
    public static string Name(string path) => path[(path.LastIndexOf('/') + 1)..];

    /// <summary>Joins a parent path and a child name.</summary>
    public static string Combine(string parent, string name) => parent == "/" ? "/" + name : parent + "/" + name;

    /// <summary>The home of a domain, base of its relative paths.</summary>
    public static string DomainPath(uint domainId) => $"/local/domain/{domainId}";
}
