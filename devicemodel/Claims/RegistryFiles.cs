using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace XenVnvdimm.DeviceModel.Claims;

/// <summary>
/// The claim registry's file operations: a root-only directory, a lock file held with an
/// open-file-description write lock (F_OFD_SETLKW: blocks, and dies with the descriptor, so a killed
/// holder never wedges the registry), and claim files created O_EXCL, never through a symlink.
/// </summary>
internal static unsafe class RegistryFiles
{
    private const uint OwnerOnly = 0x1C0; // 0700
    private const uint GroupOrOthers = 0x3F; // 077

    /// <summary>Creates <paramref name="dir"/> 0700 if missing; refuses a symlink or a directory others can write or read.</summary>
    public static void EnsureDirectory(string dir)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(dir))!);
        if (!Directory.Exists(dir))
        {
            byte[] p = Encoding.UTF8.GetBytes(dir + "\0");
            fixed (byte* pp = p)
                if (mkdir(pp, (mode_t)OwnerOnly) != 0 && errno != EEXIST)
                    throw Error($"mkdir {dir}", errno);
        }
        // O_NOFOLLOW | O_DIRECTORY: a symlink in its place is refused (ELOOP/ENOTDIR), not followed.
        statx st;
        try
        {
            using var h = Open(dir, O_RDONLY | O_DIRECTORY);
            byte empty = 0;
            if (statx((int)h.DangerousGetHandle(), &empty, AT_EMPTY_PATH, STATX_BASIC_STATS, &st) != 0)
                throw Error($"statx {dir}", errno);
        }
        catch (IOException e)
        {
            throw new UserErrorException($"claim directory {dir} cannot be used (a symbolic link is refused): {e.Message}", e);
        }
        if ((st.stx_mode & GroupOrOthers) != 0 || st.stx_uid != geteuid())
            throw new UserErrorException($"claim directory {dir} is not private to this user (mode {Convert.ToString(st.stx_mode & 0xFFF, 8)}, uid {st.stx_uid}); make it 0700 and owned by root");
    }

    /// <summary>Opens (creating, 0600) the lock file and blocks until this descriptor holds its write lock.</summary>
    public static SafeFileHandle Lock(string path)
    {
        var handle = Open(path, O_RDWR | O_CREAT);
        var fl = new flock { l_type = (short)F_WRLCK, l_whence = (short)SEEK_SET, l_start = 0, l_len = 0 };
        int rc;
        do rc = fcntl((int)handle.DangerousGetHandle(), F_OFD_SETLKW, &fl);
        while (rc != 0 && errno == EINTR);
        if (rc != 0)
        {
            int e = errno;
            handle.Dispose();
            throw Error($"lock {path}", e);
        }
        return handle;
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> durably: a new 0600 temporary (O_EXCL), fsync, rename.</summary>
    public static void Replace(string path, byte[] bytes)
    {
        string tmp = path + ".new";
        File.Delete(tmp); // a torn write of a killed writer (we hold the registry lock)
        using (var h = Open(tmp, O_WRONLY | O_CREAT | O_EXCL))
        {
            RandomAccess.Write(h, bytes, 0);
            if (fsync((int)h.DangerousGetHandle()) != 0)
                throw Error($"fsync {tmp}", errno);
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The content of <paramref name="path"/>, not following a symlink.</summary>
    public static byte[] Read(string path)
    {
        using var h = Open(path, O_RDONLY);
        long length = RandomAccess.GetLength(h);
        if (length > 64 << 20)
            throw new IOException($"{path} is implausibly large ({length} bytes)");
        var buffer = new byte[length];
        int done = 0;
        while (done < buffer.Length)
        {
            int n = RandomAccess.Read(h, buffer.AsSpan(done), done);
            if (n == 0)
                break;
            done += n;
        }
        return buffer.AsSpan(0, done).ToArray();
    }

    private static SafeFileHandle Open(string path, int flags)
    {
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* pp = p)
        {
            do fd = open(pp, flags | O_NOFOLLOW | O_CLOEXEC, 0x180); // 0600
            while (fd < 0 && errno == EINTR);
        }
        if (fd < 0)
            throw Error($"open {path}", errno);
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    private static IOException Error(string what, int e) => new($"{what}: {Marshal.GetPInvokeErrorMessage(e)}", e);
}
