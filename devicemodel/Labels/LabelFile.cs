using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using XenVnvdimm.DeviceModel.Files;
using static Tmds.Linux.LibC;

namespace XenVnvdimm.DeviceModel.Labels;

/// <summary>
/// A raw file descriptor with the few calls the label store needs: positioned I/O that retries
/// short transfers and EINTR, fdatasync, and an exclusive open-file-description lock. Raw system
/// calls rather than FileStream because durability is the point: we decide exactly when to sync.
/// </summary>
internal sealed unsafe class LabelFile : IDisposable
{
    private int _fd;

    private LabelFile(int fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    /// <summary>The path the file was opened by.</summary>
    public string Path { get; }

    /// <summary>
    /// Opens for reading and writing, never through a symbolic link and only in a directory nobody
    /// but root can write (<see cref="SafeFile"/>); when missing and <paramref name="create"/>, creates
    /// it exclusively with mode 0600.
    /// </summary>
    public static LabelFile Open(string path, bool create) => new(SafeFile.OpenNoFollow(path, create), path);

    /// <summary>Creates a new file (O_EXCL: not even a link may stand in its place), mode 0600.</summary>
    public static LabelFile CreateExclusive(string path) => new(SafeFile.CreateExclusive(path), path);

    /// <summary>The file's current length.</summary>
    public long Length
    {
        get
        {
            long n = lseek(_fd, 0, SEEK_END);
            if (n < 0)
                throw Error($"lseek {Path}", errno);
            return n;
        }
    }

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes; returns how many (fewer only at end of file).</summary>
    public int ReadAt(Span<byte> buffer, long offset)
    {
        fixed (byte* b = buffer)
        {
            int done = 0;
            while (done < buffer.Length)
            {
                long n = pread(_fd, b + done, (size_t)(ulong)(buffer.Length - done), offset + done);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0)
                    throw Error($"read {Path} at {offset + done}", errno);
                if (n == 0)
                    break;
                done += (int)n;
            }
            return done;
        }
    }

    /// <summary>Writes all of <paramref name="buffer"/> at <paramref name="offset"/>.</summary>
    public void WriteAt(ReadOnlySpan<byte> buffer, long offset)
    {
        fixed (byte* b = buffer)
        {
            int done = 0;
            while (done < buffer.Length)
            {
                long n = pwrite(_fd, b + done, (size_t)(ulong)(buffer.Length - done), offset + done);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    throw Error($"write {Path} at {offset + done}", errno);
                done += (int)n;
            }
        }
    }

    /// <summary>Sets the file's length (ftruncate).</summary>
    public void Truncate(long length)
    {
        if (ftruncate(_fd, length) != 0)
            throw Error($"ftruncate {Path}", errno);
    }

    /// <summary>fdatasync: the data (and the size, if it changed) reach stable storage.</summary>
    public void DataSync()
    {
        int rc;
        do rc = fdatasync(_fd);
        while (rc != 0 && errno == EINTR);
        if (rc != 0)
            throw Error($"fdatasync {Path}", errno);
    }

    /// <summary>
    /// Takes an exclusive F_OFD_SETLK write lock on the whole file. Open-file-description locks
    /// behave like flock(2) — owned by this descriptor, released when it closes, conflicting even
    /// within one process — and are what Tmds.LibC exposes.
    /// </summary>
    /// <returns>False when another descriptor holds the lock.</returns>
    public bool TryLockExclusive()
    {
        var fl = new flock { l_type = (short)F_WRLCK, l_whence = (short)SEEK_SET, l_start = 0, l_len = 0 };
        if (fcntl(_fd, F_OFD_SETLK, &fl) == 0)
            return true;
        int e = errno;
        if (e == EAGAIN || e == EACCES)
            return false;
        throw Error($"lock {Path}", e);
    }

    /// <summary>fsyncs a directory so a create or rename inside it is durable.</summary>
    public static void SyncDirectory(string directory)
    {
        byte[] p = Encoding.UTF8.GetBytes(directory + "\0");
        int fd;
        fixed (byte* pp = p)
            fd = open(pp, O_RDONLY | O_DIRECTORY | O_CLOEXEC, default);
        if (fd < 0)
            throw Error($"cannot open directory {directory}", errno);
        try
        {
            if (fsync(fd) != 0)
                throw Error($"fsync {directory}", errno);
        }
        finally
        {
            close(fd);
        }
    }

    private static IOException Error(string what, int e) => new($"{what}: {Marshal.GetPInvokeErrorMessage(e)}", e);

    /// <inheritdoc/>
    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
            close(fd);
    }
}
