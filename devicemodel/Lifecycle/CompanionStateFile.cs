using System.Text;
using Microsoft.Win32.SafeHandles;
using XenVnvdimm.DeviceModel.Files;

namespace XenVnvdimm.DeviceModel.Lifecycle;

/// <summary>
/// <c>/run/xen-vnvdimm/&lt;domid&gt;.state</c> (the directory is the caller's): held locked by
/// the companion serving a domain for its whole life, holding its <see cref="CompanionRecord"/>,
/// and removed on a clean exit. A second companion for the same domain is refused. A file left by
/// a companion that died (kill -9) is handed to the next one as <see cref="Previous"/>: that
/// companion's mappings and ioreq server are still live in the domain, and the next one re-attaches
/// to them or refuses. The file is mode 0600, opened through <see cref="SafeFile"/> (no symbolic
/// link, a directory only root can write, created 0700).
/// </summary>
public sealed class CompanionStateFile : IDisposable
{
    private readonly FileStream _file;

    private CompanionStateFile(string path, FileStream file, CompanionRecord? previous)
    {
        Path = path;
        _file = file;
        Previous = previous;
    }

    /// <summary>The state file's path.</summary>
    public string Path { get; }

    /// <summary>The record of a companion that died without cleaning up; null for a fresh start.</summary>
    public CompanionRecord? Previous { get; }

    /// <summary>The record last written by this companion (null until it wrote one).</summary>
    public CompanionRecord? Current { get; private set; }

    /// <summary>
    /// Keep the file on exit instead of removing it: set while a previous companion's mappings are
    /// live but not yet ours, so a refused re-attach leaves its record for the next attempt.
    /// </summary>
    public bool Keep { get; set; }

    /// <summary>Where state files live unless the administrator says otherwise.</summary>
    public const string DefaultDirectory = "/run/xen-vnvdimm";

    /// <summary>
    /// Takes the domain's state file. A fresh start gets a new record written at once; after a crash the
    /// dead companion's record is kept untouched in <see cref="Previous"/>. Throws a
    /// <see cref="UserErrorException"/> saying who holds it, or why its content cannot be trusted.
    /// </summary>
    public static CompanionStateFile Acquire(string directory, uint domid, string platform)
    {
        SafeFile.EnsureSafeDirectory(directory, create: true);
        string path = System.IO.Path.Combine(directory, $"{domid}.state");
        int fd = SafeFile.OpenNoFollow(path, create: true);
        FileStream file;
        try
        {
            // An exclusive flock, as FileShare.None takes it: it dies with the process that holds it.
            if (!SafeFile.TryLockExclusive(fd, path))
                throw new UserErrorException($"domain {domid} is already served by a running companion ({Describe(path)}; state file {path})");
            if (SafeFile.ModeOf(fd, path) != SafeFile.FileMode)
                SafeFile.SetMode(fd, path, SafeFile.FileMode); // earlier versions left it 0644
        }
        catch
        {
            Tmds.Linux.LibC.close(fd);
            throw;
        }
        file = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.ReadWrite);
        string content = new StreamReader(file, Encoding.UTF8, leaveOpen: true).ReadToEnd();
        if (content.Trim().Length == 0)
        {
            var state = new CompanionStateFile(path, file, null);
            state.Record(CompanionRecord.Fresh(domid, platform));
            return state;
        }
        var previous = CompanionRecord.TryParse(content);
        if (previous is null || previous.Domid != domid)
        {
            file.Dispose();
            throw new UserErrorException(
                $"a previous companion for domain {domid} ended without cleaning up and its state file {path} cannot be read " +
                "(written by another version, or torn), so what it mapped is unknown and may still be live: " +
                $"destroy the domain, or remove {path} once the domain is gone");
        }
        return new CompanionStateFile(path, file, previous);
    }

    /// <summary>
    /// Replaces the record, durably. Written over the old one in place and then cut to length, never
    /// truncated first: a crash mid-write leaves a file that does not parse (and is refused), never an
    /// empty one that would look like a clean exit.
    /// </summary>
    public void Record(CompanionRecord record)
    {
        byte[] bytes = record.ToJson();
        _file.Position = 0;
        _file.Write(bytes);
        _file.SetLength(bytes.Length);
        _file.Flush(flushToDisk: true);
        Current = record;
    }

    // Reads without taking a lock: .NET's FileStream would ask for a shared flock, which the
    // holder's exclusive one refuses.
    private static unsafe string Describe(string path)
    {
        int fd;
        try
        {
            fd = SafeFile.OpenReadOnlyNoFollow(path);
        }
        catch (Exception e) when (e is IOException or UserErrorException)
        {
            return "pid unknown";
        }
        try
        {
            using var content = new MemoryStream();
            var buffer = new byte[16384];
            fixed (byte* p = buffer)
            {
                long n;
                while ((n = Tmds.Linux.LibC.read(fd, p, buffer.Length)) > 0 && content.Length < (1 << 20))
                    content.Write(buffer, 0, (int)n);
            }
            return CompanionRecord.TryParse(Encoding.UTF8.GetString(content.ToArray()))?.Summary ?? "pid unknown";
        }
        finally
        {
            Tmds.Linux.LibC.close(fd);
        }
    }

    /// <summary>Exit: remove the file (unless <see cref="Keep"/>), then release the lock.</summary>
    public void Dispose()
    {
        if (!Keep)
            File.Delete(Path);
        _file.Dispose();
    }
}
