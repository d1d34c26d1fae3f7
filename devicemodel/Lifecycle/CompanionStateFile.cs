using System.Globalization;
using System.Text;

namespace XenVnvdimm.DeviceModel.Lifecycle;

/// <summary>
/// <c>/run/xen-vnvdimm/&lt;domid&gt;.state</c> (or <c>$XEN_VNVDIMM_STATE_DIR</c>): held locked by
/// the companion serving a domain for its whole life and removed on a clean exit. A second
/// companion for the same domain is refused; a file left by a companion that died (kill -9)
/// is reported with what it recorded, because that companion's mappings may still be live.
/// </summary>
public sealed class CompanionStateFile : IDisposable
{
    private readonly FileStream _file;

    private CompanionStateFile(string path, FileStream file)
    {
        Path = path;
        _file = file;
    }

    /// <summary>The state file's path.</summary>
    public string Path { get; }

    /// <summary>The directory holding state files.</summary>
    public static string Directory =>
        Environment.GetEnvironmentVariable("XEN_VNVDIMM_STATE_DIR") is { Length: > 0 } d ? d : "/run/xen-vnvdimm";

    /// <summary>Takes the domain's state file or throws a <see cref="UserErrorException"/> saying who holds it.</summary>
    public static CompanionStateFile Acquire(uint domid, string platform)
    {
        System.IO.Directory.CreateDirectory(Directory);
        string path = System.IO.Path.Combine(Directory, $"{domid}.state");
        FileStream file;
        try
        {
            // FileShare.None is an exclusive flock on Linux: it dies with the process that holds it.
            file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new UserErrorException($"domain {domid} is already served by a running companion ({Describe(path)}; state file {path})");
        }
        string previous = new StreamReader(file, Encoding.UTF8, leaveOpen: true).ReadToEnd();
        if (previous.Trim().Length > 0)
        {
            file.Dispose();
            throw new UserErrorException(
                $"a previous companion for domain {domid} ({Summary(previous)}) ended without cleaning up, so its mappings and ioreq server may still be live; " +
                $"re-attaching is not supported: destroy the domain, or remove {path} once the domain is gone");
        }
        file.SetLength(0);
        var content = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"pid={Environment.ProcessId}\nplatform={platform}\nstarted={DateTime.UtcNow:O}\n"));
        file.Write(content);
        file.Flush(flushToDisk: true);
        return new CompanionStateFile(path, file);
    }

    // Reads without taking a lock: .NET's FileStream would ask for a shared flock, which the
    // holder's exclusive one refuses.
    private static unsafe string Describe(string path)
    {
        byte[] name = Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* n = name)
            fd = Tmds.Linux.LibC.open(n, Tmds.Linux.LibC.O_RDONLY | Tmds.Linux.LibC.O_CLOEXEC);
        if (fd < 0)
            return "pid unknown";
        try
        {
            var buffer = new byte[512];
            fixed (byte* p = buffer)
            {
                long n = Tmds.Linux.LibC.read(fd, p, buffer.Length);
                return n <= 0 ? "pid unknown" : Summary(Encoding.UTF8.GetString(buffer, 0, (int)n));
            }
        }
        finally
        {
            Tmds.Linux.LibC.close(fd);
        }
    }

    private static string Summary(string content) =>
        string.Join(", ", content.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>Clean exit: remove the file, then release the lock.</summary>
    public void Dispose()
    {
        File.Delete(Path);
        _file.Dispose();
    }
}
