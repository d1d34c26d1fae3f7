using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace XenVnvdimm.DeviceModel.Files;

/// <summary>
/// Opens the companion's own files — label areas, journals, locks, state and claim files — the one
/// way they may be opened. The companion runs as root and writes them, so a symbolic link planted
/// in their place would turn its writes onto any file of the host: the last component is never
/// followed (O_NOFOLLOW, ELOOP is a refusal), new files are created exclusively (O_EXCL) with mode
/// 0600, and the directory holding them must belong to root (or to us) and be writable by nobody
/// else, checked on the descriptor the file is then opened relative to (openat), so the directory
/// checked is the one used. Directories the companion creates get mode 0700.
/// </summary>
internal static unsafe partial class SafeFile
{
    /// <summary>Mode of files the companion creates: rw for root only.</summary>
    public const int FileMode = 0x180; // 0600

    /// <summary>Mode of directories the companion creates: rwx for root only.</summary>
    public const int DirectoryMode = 0x1C0; // 0700

    private const uint S_IFMT = 0xF000;
    private const uint S_IFREG = 0x8000;
    private const uint S_IWGRP = 0x10;
    private const uint S_IWOTH = 0x2;
    private const uint PermissionBits = 0xFFF;
    private const int LOCK_EX = 2;
    private const int LOCK_NB = 4;

    /// <summary>
    /// Checks that <paramref name="directory"/> is a safe home for the companion's files, creating it
    /// (and missing parents) with mode 0700 first when <paramref name="create"/>.
    /// </summary>
    /// <exception cref="UserErrorException">Not owned by root, or writable by group or others (naming the directory and its mode).</exception>
    /// <exception cref="IOException">It cannot be created or opened.</exception>
    public static void EnsureSafeDirectory(string directory, bool create)
    {
        directory = Path.GetFullPath(directory);
        if (create)
            CreateMissing(directory);
        close(OpenCheckedDirectory(directory));
    }

    /// <summary>
    /// Opens <paramref name="path"/> for reading and writing without following a symbolic link; when
    /// it is missing and <paramref name="create"/>, creates it exclusively with mode 0600. The caller
    /// owns (and closes) the returned descriptor.
    /// </summary>
    public static int OpenNoFollow(string path, bool create)
    {
        while (true)
        {
            int fd, e;
            if (create)
            {
                if (TryOpen(path, O_RDWR | O_CREAT | O_EXCL, out fd, out e))
                    return fd;
                if (e != EEXIST)
                    throw Failure(path, e);
            }
            if (TryOpen(path, O_RDWR, out fd, out e))
                return fd;
            // Removed between the two attempts: create it after all.
            if (!(create && e == ENOENT))
                throw Failure(path, e);
        }
    }

    /// <summary>Opens <paramref name="path"/> read-only without following a symbolic link.</summary>
    public static int OpenReadOnlyNoFollow(string path) =>
        TryOpen(path, O_RDONLY, out int fd, out int e) ? fd : throw Failure(path, e);

    /// <summary>Creates <paramref name="path"/> exclusively (it must not exist, not even as a link), mode 0600.</summary>
    public static int CreateExclusive(string path) =>
        TryOpen(path, O_RDWR | O_CREAT | O_EXCL, out int fd, out int e) ? fd : throw Failure(path, e);

    /// <summary>Removes <paramref name="path"/> if present (a link is removed, never what it points to).</summary>
    public static void DeleteIfPresent(string path)
    {
        byte[] p = Encoding.UTF8.GetBytes(Path.GetFullPath(path) + "\0");
        fixed (byte* pp = p)
        {
            if (unlink(pp) != 0 && errno != ENOENT)
                throw Error($"cannot remove {path}", errno);
        }
    }

    /// <summary>Takes an exclusive flock(2) without waiting; false when another descriptor holds it.</summary>
    public static bool TryLockExclusive(int fd, string path)
    {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return true;
        int e = Marshal.GetLastPInvokeError();
        if (e == EWOULDBLOCK)
            return false;
        throw Error($"lock {path}", e);
    }

    /// <summary>Sets the permission bits of an open file (fchmod).</summary>
    public static void SetMode(int fd, string path, int mode)
    {
        if (fchmod(fd, (mode_t)mode) != 0)
            throw Error($"chmod {path}", errno);
    }

    /// <summary>The permission bits of an open file.</summary>
    public static int ModeOf(int fd, string path) => (int)(Status(fd, path).stx_mode & PermissionBits);

    /// <summary>Creates the missing components of <paramref name="directory"/>, each with mode 0700.</summary>
    private static void CreateMissing(string directory)
    {
        var missing = new Stack<string>();
        for (string? d = directory; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d))
            missing.Push(d);
        foreach (string d in missing)
        {
            byte[] p = Encoding.UTF8.GetBytes(d + "\0");
            fixed (byte* pp = p)
            {
                if (mkdir(pp, (mode_t)DirectoryMode) != 0 && errno != EEXIST)
                    throw Error($"cannot create directory {d}", errno);
            }
        }
    }

    private static bool TryOpen(string path, int flags, out int fd, out int error)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? "/";
        byte[] name = Encoding.UTF8.GetBytes(Path.GetFileName(full) + "\0");
        int dir = OpenCheckedDirectory(directory);
        try
        {
            fixed (byte* n = name)
            {
                do fd = openat(dir, n, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, (mode_t)FileMode);
                while (fd < 0 && errno == EINTR);
            }
            error = fd < 0 ? errno : 0;
        }
        finally
        {
            close(dir);
        }
        if (fd < 0)
            return false;
        // O_NONBLOCK only so that a FIFO planted here cannot block the open; refuse anything but a file.
        var st = Status(fd, full);
        if ((st.stx_mode & S_IFMT) != S_IFREG)
        {
            close(fd);
            throw new UserErrorException($"refusing to open {full}: it is not a regular file");
        }
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        return true;
    }

    /// <summary>Opens a directory and checks owner and mode on that descriptor.</summary>
    private static int OpenCheckedDirectory(string directory)
    {
        byte[] p = Encoding.UTF8.GetBytes(directory + "\0");
        int fd;
        fixed (byte* pp = p)
        {
            do fd = open(pp, O_RDONLY | O_DIRECTORY | O_CLOEXEC, default);
            while (fd < 0 && errno == EINTR);
        }
        if (fd < 0)
            throw Error($"cannot open directory {directory}", errno);
        var st = Status(fd, directory);
        uint mode = st.stx_mode & PermissionBits;
        string? problem = st.stx_uid != 0 && st.stx_uid != (uint)geteuid() ? $"is owned by uid {st.stx_uid}, not root"
            : (mode & (S_IWGRP | S_IWOTH)) != 0 ? "is writable by group or others"
            : null;
        if (problem is not null)
        {
            close(fd);
            throw new UserErrorException(
                $"refusing to keep files in {directory}: the directory (mode {Convert.ToString(mode, 8).PadLeft(4, '0')}, uid {st.stx_uid}) {problem}; it must be root's and writable only by root (e.g. 0700)");
        }
        return fd;
    }

    private static statx Status(int fd, string path)
    {
        statx st;
        byte empty = 0;
        if (statx(fd, &empty, AT_EMPTY_PATH, STATX_BASIC_STATS, &st) != 0)
            throw Error($"statx {path}", errno);
        return st;
    }

    private static Exception Failure(string path, int e) => e == ELOOP
        ? new UserErrorException($"refusing to open {Path.GetFullPath(path)}: it is a symbolic link (ELOOP); the companion's files are never opened through a link")
        : Error($"cannot open {path}", e);

    private static IOException Error(string what, int e) => new($"{what}: {Marshal.GetPInvokeErrorMessage(e)}", e);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int flock(int fd, int operation);
}
