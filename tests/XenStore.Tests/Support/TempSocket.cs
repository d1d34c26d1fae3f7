namespace XenVnvdimm.Tests.Support;

/// <summary>A fresh Unix socket path (short enough for sun_path) in a private temp directory.</summary>
public sealed class TempSocket : IDisposable
{
    public TempSocket()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("xs").FullName;
        Path = System.IO.Path.Combine(Directory, "sock");
    }

    public string Directory { get; }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
