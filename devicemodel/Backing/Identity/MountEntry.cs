namespace XenVnvdimm.DeviceModel.Backing.Identity;

/// <summary>One line of <c>/proc/self/mountinfo</c> (proc(5)).</summary>
/// <param name="Major">Device major.</param>
/// <param name="Minor">Device minor.</param>
/// <param name="MountPoint">Where it is mounted.</param>
/// <param name="FilesystemType">e.g. ext4, xfs.</param>
/// <param name="Source">e.g. /dev/pmem0.</param>
/// <param name="SuperOptions">Per-superblock options, e.g. <c>rw,dax=always</c>.</param>
public sealed record MountEntry(uint Major, uint Minor, string MountPoint, string FilesystemType, string Source, string SuperOptions)
{
    /// <summary>True when the superblock options ask for DAX (ext4 <c>dax</c>, <c>dax=always</c>).</summary>
    public bool DaxAlways => SuperOptions.Split(',').Any(o => o is "dax" or "dax=always");

    /// <summary>Finds the mount of device <paramref name="major"/>:<paramref name="minor"/> in a mountinfo file.</summary>
    public static MountEntry? Find(string mountinfoPath, uint major, uint minor)
    {
        foreach (string line in File.ReadLines(mountinfoPath))
            if (Parse(line) is { } e && e.Major == major && e.Minor == minor)
                return e;
        return null;
    }

    /// <summary>Parses one mountinfo line; null when it is malformed.</summary>
    public static MountEntry? Parse(string line)
    {
        string[] f = line.Split(' ');
        int dash = f.Length > 6 ? Array.IndexOf(f, "-", 6) : -1;
        if (dash < 0 || dash + 2 >= f.Length)
            return null;
        string[] dev = f[2].Split(':');
        if (dev.Length != 2 || !uint.TryParse(dev[0], out uint major) || !uint.TryParse(dev[1], out uint minor))
            return null;
        return new MountEntry(major, minor, Unescape(f[4]), f[dash + 1], Unescape(f[dash + 2]), dash + 3 < f.Length ? f[dash + 3] : "");
    }

    // mountinfo escapes space, tab, newline and backslash as \ooo octal.
    internal static string Unescape(string s)
    {
        if (!s.Contains('\\'))
            return s;
        var sb = new System.Text.StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && IsOctal(s, i + 1))
            {
                sb.Append((char)Convert.ToInt32(s.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
                sb.Append(s[i]);
        }
        return sb.ToString();
    }

    private static bool IsOctal(string s, int at)
        => at + 3 <= s.Length && s[at] is >= '0' and <= '7' && s[at + 1] is >= '0' and <= '7' && s[at + 2] is >= '0' and <= '7';
}
