namespace XenVnvdimm.DeviceModel.Layout;

/// <summary>Finds the size of a backing store: regular file, block device or devdax character device.</summary>
internal static class BackendSize
{
    /// <summary>The backend's size in bytes, or null when it does not exist.</summary>
    public static ulong? TryGet(string path)
    {
        if (Directory.Exists(path))
            throw new UserErrorException($"backend '{path}' is a directory, not a file or device");
        var info = new FileInfo(path);
        if (!info.Exists && !Directory.Exists(path) && !File.Exists(path))
        {
            // FileInfo reports device nodes as existing files; a missing path is missing.
            return Path.Exists(path) ? SysfsSize(path) : null;
        }
        if ((info.Attributes & FileAttributes.Device) != 0 || path.StartsWith("/dev/", StringComparison.Ordinal))
            return SysfsSize(path);
        return (ulong)info.Length;
    }

    private static ulong? SysfsSize(string path)
    {
        string name = Path.GetFileName(Path.GetFullPath(path));
        string dax = $"/sys/bus/dax/devices/{name}/size";
        if (File.Exists(dax))
            return ulong.Parse(File.ReadAllText(dax).Trim());
        string block = $"/sys/class/block/{name}/size";
        if (File.Exists(block))
            return ulong.Parse(File.ReadAllText(block).Trim()) * 512;
        return null;
    }
}
