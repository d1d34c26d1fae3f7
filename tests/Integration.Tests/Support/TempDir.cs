namespace XenVnvdimm.Tests.Integration;

/// <summary>A temporary directory removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "xvnd-")
    {
        Path = Directory.CreateTempSubdirectory(prefix).FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Creates a sparse file of <paramref name="size"/> bytes and returns its path.</summary>
    public string Sparse(string name, long size)
    {
        string path = File(name);
        using var fs = new FileStream(path, FileMode.Create);
        fs.SetLength(size);
        return path;
    }

    /// <summary>Creates a file of <paramref name="size"/> random bytes, written through (so FIEMAP sees real extents).</summary>
    public string Filled(string name, int size)
    {
        string path = File(name);
        var bytes = new byte[size];
        Random.Shared.NextBytes(bytes);
        System.IO.File.WriteAllBytes(path, bytes);
        using var f = new FileStream(path, FileMode.Open);
        f.Flush(flushToDisk: true);
        return path;
    }

    public void Dispose()
    {
        // A pinned (immutable) file a failed test left behind stays; the failure itself must not be masked.
        try { Directory.Delete(Path, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
