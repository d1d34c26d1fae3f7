using XenVnvdimm.DeviceModel.Backing.Kernel;

namespace XenVnvdimm.DeviceModel.Backing.Pinning;

/// <summary>
/// Makes a mapped DAX file immutable (FS_IMMUTABLE_FL, <c>chattr +i</c>) so its blocks cannot be freed,
/// moved while a guest's frames point at them: truncate, fallocate punch-hole, unlink, rename, a
/// reflink onto it and e4defrag fail with EPERM, and xfs_fsr leaves it where it is. A reflink *from*
/// it is not stopped (the VFS checks only the clone's destination): the file's own blocks and data
/// stay, and the next resolution sees them shared. Whether this process set the flag is returned so it can be
/// recorded beside the domain's claim and cleared, by whichever process sees the domain gone, only
/// when it was ours to clear.
/// </summary>
public static class ImmutablePin
{
    private const int EPERM = 1;
    private const int EACCES = 13;
    private const int ENOTTY = 25;
    private const int EOPNOTSUPP = 95;

    /// <summary>
    /// Sets the immutable flag on the file <paramref name="r"/> holds open. Returns true when this call
    /// set it, false when the file was immutable already (someone else's pin, left alone at release).
    /// </summary>
    /// <exception cref="UserErrorException">The flag cannot be set (no CAP_LINUX_IMMUTABLE, a filesystem without it); names the file and errno.</exception>
    public static bool Pin(BackingResolution r)
    {
        var file = r.OpenFile ?? throw new InvalidOperationException($"{r.Path}: pinning needs the resolution's open file (resolve with BackingLockMode.Exclusive)");
        return Pin(file);
    }

    internal static bool Pin(NativeFile file)
    {
        try
        {
            int flags = file.InodeFlags();
            if ((flags & InodeFlags.FS_IMMUTABLE_FL) != 0)
                return false;
            file.SetInodeFlags(flags | InodeFlags.FS_IMMUTABLE_FL);
            // Read back: a filesystem that ignores the bit must not pass for pinned.
            if ((file.InodeFlags() & InodeFlags.FS_IMMUTABLE_FL) == 0)
                throw new UserErrorException($"{file.Path}: cannot pin the backing: FS_IOC_SETFLAGS accepted FS_IMMUTABLE_FL but the flag did not stick");
            return true;
        }
        catch (IOException e)
        {
            throw new UserErrorException($"{file.Path}: cannot pin the backing (set FS_IMMUTABLE_FL): {e.Message} (errno {e.HResult}){Hint(e.HResult)}", e);
        }
    }

    /// <summary>True when the file <paramref name="r"/> holds open is immutable now.</summary>
    public static bool IsSet(BackingResolution r)
    {
        var file = r.OpenFile ?? throw new InvalidOperationException($"{r.Path}: the resolution holds no open file");
        return ((file.InodeFlagsOrNull() ?? 0) & InodeFlags.FS_IMMUTABLE_FL) != 0;
    }

    /// <summary>True when the file at <paramref name="path"/> (not followed if a symlink) is immutable; null when it cannot be read.</summary>
    public static bool? IsImmutable(string path)
    {
        try
        {
            using var file = NativeFile.Open(path, writable: false, noFollow: true);
            return file.InodeFlagsOrNull() is int f ? (f & InodeFlags.FS_IMMUTABLE_FL) != 0 : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// Clears the immutable flag of the file at <paramref name="path"/> if it is still the file that was
    /// pinned (<paramref name="identity"/>); a symlink put in its place is not followed. Returns what
    /// happened, for the log.
    /// </summary>
    public static string Unpin(string path, BackingIdentity identity)
    {
        NativeFile file;
        try
        {
            file = NativeFile.Open(path, writable: false, noFollow: true);
        }
        catch (IOException e)
        {
            return $"{path}: not unpinned: {e.Message}";
        }
        using (file)
        {
            try
            {
                var st = file.Status();
                if (new BackingIdentity(st.DevMajor, st.DevMinor, st.Inode) != identity)
                    return $"{path}: not unpinned: it is no longer the pinned file ({identity})";
                int flags = file.InodeFlags();
                if ((flags & InodeFlags.FS_IMMUTABLE_FL) != 0)
                    file.SetInodeFlags(flags & ~InodeFlags.FS_IMMUTABLE_FL);
                return $"{path}: unpinned (FS_IMMUTABLE_FL cleared)";
            }
            catch (IOException e)
            {
                return $"{path}: not unpinned: {e.Message}";
            }
        }
    }

    private static string Hint(int errno) => errno switch
    {
        EPERM or EACCES => ": the companion needs CAP_LINUX_IMMUTABLE (run it as root)",
        ENOTTY or EOPNOTSUPP => ": the filesystem does not support the immutable flag",
        _ => "",
    };
}
