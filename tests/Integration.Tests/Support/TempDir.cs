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

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
