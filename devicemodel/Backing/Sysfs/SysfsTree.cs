using System.Globalization;

namespace XenVnvdimm.DeviceModel.Backing.Sysfs;

/// <summary>
/// Read access to a sysfs tree rooted at <see cref="Root"/> (normally <c>/sys</c>; tests pass a
/// synthetic directory). Symbolic links are resolved within the tree.
/// </summary>
public sealed class SysfsTree
{
    /// <summary>The live system's sysfs.</summary>
    public static SysfsTree System { get; } = new("/sys");

    /// <summary>Creates a view of the tree at <paramref name="root"/>.</summary>
    public SysfsTree(string root) => Root = Path.GetFullPath(root);

    /// <summary>The directory that plays /sys.</summary>
    public string Root { get; }

    /// <summary>Path of <paramref name="relative"/> (e.g. <c>dev/block/259:0</c>) with every symlink resolved.</summary>
    public string Resolve(string relative) => Canonical(Path.Combine(Root, relative));

    /// <summary>Resolves symlinks in every component of an absolute path.</summary>
    public static string Canonical(string path)
    {
        string full = Path.GetFullPath(path);
        string current = Path.GetPathRoot(full)!;
        foreach (string part in full[current.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            string next = Path.Combine(current, part);
            for (int hops = 0; hops < 40; hops++)
            {
                var info = new FileInfo(next);
                if (info.LinkTarget is not { } target)
                    break;
                next = Canonical(Path.IsPathRooted(target) ? target : Path.Combine(current, target));
            }
            current = next;
        }
        return current;
    }

    /// <summary>The trimmed content of an attribute file, or null when it does not exist.</summary>
    public static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>A numeric attribute: <c>0x</c>-prefixed hex or decimal; null when absent.</summary>
    public static ulong? ReadNumberOrNull(string path)
    {
        string? text = ReadText(path);
        if (text is null)
            return null;
        bool ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong v)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        return ok ? v : throw new InvalidDataException($"{path}: '{text}' is not a number");
    }

    /// <summary>A numeric attribute that must exist.</summary>
    public static ulong ReadNumber(string path)
        => ReadNumberOrNull(path) ?? throw new FileNotFoundException($"{path} is missing", path);
}
