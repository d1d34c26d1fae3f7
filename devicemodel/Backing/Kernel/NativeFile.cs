using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace XenVnvdimm.DeviceModel.Backing.Kernel;

/// <summary>
/// An open file descriptor and the system calls backing resolution makes on it. Every kernel call
/// of the backing area goes through here, so errno handling lives in one place.
/// </summary>
internal sealed unsafe class NativeFile : IDisposable
{
    private readonly SafeFileHandle _handle;

    private NativeFile(SafeFileHandle handle, string path)
    {
        _handle = handle;
        Path = path;
    }

    /// <summary>The path the file was opened by.</summary>
    public string Path { get; }

    private int Fd => (int)_handle.DangerousGetHandle();

    /// <summary>Opens <paramref name="path"/> read-only, or read-write when <paramref name="writable"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="writable">O_RDWR instead of O_RDONLY.</param>
    /// <param name="exclusive">O_EXCL: for a block device, fails with EBUSY while it is mounted or held (md, dm, another exclusive opener).</param>
    /// <param name="noFollow">O_NOFOLLOW: a symbolic link as the last component is refused (ELOOP).</param>
    public static NativeFile Open(string path, bool writable, bool exclusive = false, bool noFollow = false)
    {
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | (exclusive ? O_EXCL : 0) | (noFollow ? O_NOFOLLOW : 0);
        fixed (byte* pp = p)
        {
            do fd = open(pp, flags, default);
            while (fd < 0 && errno == EINTR);
        }
        if (fd < 0)
            throw Error($"cannot open {path}", errno);
        return new NativeFile(new SafeFileHandle(fd, ownsHandle: true), path);
    }

    /// <summary>statx of the open file.</summary>
    public FileStatus Status()
    {
        statx st;
        byte empty = 0;
        if (statx(Fd, &empty, AT_EMPTY_PATH, STATX_BASIC_STATS, &st) != 0)
            throw Error($"statx {Path}", errno);
        return new FileStatus(st.stx_dev_major, st.stx_dev_minor, st.stx_rdev_major, st.stx_rdev_minor,
            st.stx_mode, st.stx_ino, st.stx_size, st.stx_attributes,
            st.stx_ctime.tv_sec * 1_000_000_000 + st.stx_ctime.tv_nsec,
            st.stx_mtime.tv_sec * 1_000_000_000 + st.stx_mtime.tv_nsec);
    }

    /// <summary>The filesystem's block size (<c>f_bsize</c> of fstatvfs).</summary>
    public ulong FilesystemBlockSize()
    {
        statvfs sv;
        if (fstatvfs(Fd, &sv) != 0)
            throw Error($"fstatvfs {Path}", errno);
        return sv.f_bsize;
    }

    /// <summary>FS_IOC_GETFLAGS, or null where the filesystem does not support it.</summary>
    public int? InodeFlagsOrNull()
    {
        long flags = 0;
        if (ioctl(Fd, unchecked((int)Ioctl.FS_IOC_GETFLAGS), &flags) != 0)
            return null;
        return (int)flags;
    }

    /// <summary>FS_IOC_SETFLAGS: replaces the inode flags (an <see cref="IOException"/> carries the errno in HResult).</summary>
    public void SetInodeFlags(int flags)
    {
        long value = flags;
        int rc;
        do rc = ioctl(Fd, unchecked((int)Ioctl.FS_IOC_SETFLAGS), &value);
        while (rc != 0 && errno == EINTR);
        if (rc != 0)
            throw Error($"FS_IOC_SETFLAGS {Path}", errno);
    }

    /// <summary>FS_IOC_GETFLAGS, throwing (errno in HResult) where the filesystem does not support it.</summary>
    public int InodeFlags()
    {
        long flags = 0;
        if (ioctl(Fd, unchecked((int)Ioctl.FS_IOC_GETFLAGS), &flags) != 0)
            throw Error($"FS_IOC_GETFLAGS {Path}", errno);
        return (int)flags;
    }

    /// <summary>FS_IOC_FSGETXATTR, or null where the filesystem does not support it.</summary>
    public FsXattr? FsXattrOrNull()
    {
        FsXattr x;
        if (ioctl(Fd, unchecked((int)Ioctl.FS_IOC_FSGETXATTR), &x) != 0)
            return null;
        return x;
    }

    /// <summary>FS_IOC_FIEMAP on a caller-owned buffer (header followed by the extent array).</summary>
    public void Fiemap(FiemapHeader* request)
    {
        int rc;
        do rc = ioctl(Fd, unchecked((int)Ioctl.FS_IOC_FIEMAP), request);
        while (rc != 0 && errno == EINTR);
        if (rc != 0)
            throw Error($"FIEMAP {Path}", errno);
    }

    /// <summary>Reads exactly <paramref name="buffer"/>.Length bytes at <paramref name="offset"/>.</summary>
    public void ReadExactly(Span<byte> buffer, long offset)
    {
        fixed (byte* b = buffer)
        {
            int done = 0;
            while (done < buffer.Length)
            {
                long n = pread(Fd, b + done, (size_t)(ulong)(buffer.Length - done), offset + done);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0)
                    throw Error($"read {Path} at 0x{offset + done:x}", errno);
                if (n == 0)
                    throw new IOException($"read {Path}: end of file at 0x{offset + done:x}");
                done += (int)n;
            }
        }
    }

    /// <summary>Writes all of <paramref name="buffer"/> at <paramref name="offset"/>.</summary>
    public void WriteExactly(ReadOnlySpan<byte> buffer, long offset)
    {
        fixed (byte* b = buffer)
        {
            int done = 0;
            while (done < buffer.Length)
            {
                long n = pwrite(Fd, b + done, (size_t)(ulong)(buffer.Length - done), offset + done);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    throw Error($"write {Path} at 0x{offset + done:x}", errno);
                done += (int)n;
            }
        }
    }

    /// <summary>fsync.</summary>
    public void Sync()
    {
        if (fsync(Fd) != 0)
            throw Error($"fsync {Path}", errno);
    }

    /// <summary>
    /// Takes an exclusive open-file-description lock on the whole file (F_OFD_SETLK, F_WRLCK).
    /// Returns false when another open file description holds a conflicting lock. Needs a writable
    /// descriptor; the lock lasts until this object is disposed.
    /// </summary>
    public bool TryLockExclusive() => TryLock(F_WRLCK);

    /// <summary>
    /// Takes a shared open-file-description lock (F_OFD_SETLK, F_RDLCK): what a read-only descriptor
    /// can hold, used for a file already immutable (it cannot be opened for writing). Returns false
    /// when another open file description holds a write lock.
    /// </summary>
    public bool TryLockShared() => TryLock(F_RDLCK);

    private bool TryLock(int type)
    {
        flock fl = WholeFile(type);
        if (fcntl(Fd, F_OFD_SETLK, &fl) == 0)
            return true;
        int e = errno;
        if (e == EAGAIN || e == EACCES)
            return false;
        throw Error($"lock {Path}", e);
    }

    /// <summary>True when some other open file description holds a lock on the file (F_OFD_GETLK).</summary>
    public bool IsLockedElsewhere()
    {
        flock fl = WholeFile(F_WRLCK);
        if (fcntl(Fd, F_OFD_GETLK, &fl) != 0)
            throw Error($"lock query {Path}", errno);
        return fl.l_type != F_UNLCK;
    }

    private static flock WholeFile(int type) => new() { l_type = (short)type, l_whence = (short)SEEK_SET, l_start = 0, l_len = 0 };

    /// <summary>An <see cref="IOException"/> whose HResult is <paramref name="errno"/>.</summary>
    public static IOException Error(string what, int errno)
        => new($"{what}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();
}
