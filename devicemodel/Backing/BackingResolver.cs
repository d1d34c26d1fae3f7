using XenVnvdimm.DeviceModel.Backing.Kernel;
using XenVnvdimm.DeviceModel.Backing.Pinning;

namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>
/// Resolves a backing — a file on a DAX filesystem, a pmem block device or partition, a device-dax
/// instance — into a scatter list of physically contiguous runs with their SPAs, and every reason it
/// must not be given to a guest. Reads only, except for the explicit zero-fill option.
/// </summary>
public static class BackingResolver
{
    /// <summary>Resolves <paramref name="path"/>.</summary>
    /// <exception cref="UserErrorException">The path cannot be opened or is not a supported kind of backing.</exception>
    public static BackingResolution Resolve(string path, BackingOptions options)
    {
        bool writable = options.Lock == BackingLockMode.Exclusive || options.ZeroUnwritten;
        NativeFile file;
        bool readOnlyLock = false, heldExclusively = false;
        try
        {
            (file, readOnlyLock, heldExclusively) = OpenBacking(Path.GetFullPath(path), writable, options.Lock == BackingLockMode.Exclusive);
        }
        catch (IOException e)
        {
            throw new UserErrorException(e.Message, e);
        }

        BackingResolution? result = null;
        bool keepOpen = false;
        try
        {
            var status = file.Status();
            bool lockedElsewhere;
            if (options.Lock == BackingLockMode.Exclusive)
                keepOpen = !(lockedElsewhere = !(readOnlyLock ? file.TryLockShared() : file.TryLockExclusive()));
            else
                lockedElsewhere = file.IsLockedElsewhere();

            // Never write to a backing another guest holds: zero-filling is only for an idle file
            // (and an immutable one cannot be written at all).
            if (lockedElsewhere || readOnlyLock)
                options = options with { ZeroUnwritten = false };

            if (status.IsRegular)
                result = FileBackingResolver.Resolve(file, status, options, keepOpen ? file : null);
            else if (status.IsBlockDevice || status.IsCharDevice)
                result = DeviceBackingResolver.Resolve(file, status, options, keepOpen ? file : null);
            else
                throw new UserErrorException($"{path}: not a regular file, a pmem block device or a dax device");

            result.Identity = status.IsRegular
                ? new BackingIdentity(status.DevMajor, status.DevMinor, status.Inode)
                : new BackingIdentity(status.RdevMajor, status.RdevMinor, 0);
            if (heldExclusively)
                result.AddRefusal(new Refusal(RefusalReason.InUse, 0, result.Size,
                    "the device is held exclusively (O_EXCL: EBUSY): mounted, a member of md/dm/LVM, or open by another guest's companion"));
            if (lockedElsewhere)
                result.AddRefusal(new Refusal(RefusalReason.InUse, 0, result.Size,
                    "another process holds the backing's lock: it is in use by another guest"));
            return result;
        }
        catch (IOException e)
        {
            result?.Dispose();
            keepOpen = false;
            throw new UserErrorException($"{path}: {e.Message}", e);
        }
        catch
        {
            result?.Dispose();
            keepOpen = false;
            throw;
        }
        finally
        {
            if (!keepOpen)
                file.Dispose();
        }
    }

    // A file already immutable (pinned by a previous companion of the same guest, or by the
    // administrator) cannot be opened for writing: it is resolved read-only under a shared lock, and
    // the host-wide claims keep it exclusive. A block device is opened O_EXCL when it is to be
    // attached, which the kernel refuses while anything else holds it.
    private static (NativeFile File, bool ReadOnlyLock, bool HeldExclusively) OpenBacking(string path, bool writable, bool exclusive)
    {
        var probe = NativeFile.Open(path, writable: false);
        if (!writable)
            return (probe, false, false);
        try
        {
            var st = probe.Status();
            if (st.IsBlockDevice && exclusive)
            {
                try
                {
                    return (Same(probe, NativeFile.Open(path, writable: true, exclusive: true)), false, false);
                }
                catch (IOException e) when (e.HResult == EBUSY)
                {
                    return (Same(probe, NativeFile.Open(path, writable: true)), false, true);
                }
            }
            try
            {
                return (Same(probe, NativeFile.Open(path, writable: true)), false, false);
            }
            catch (IOException e) when (e.HResult == EPERM && st.IsRegular && ((probe.InodeFlagsOrNull() ?? 0) & InodeFlags.FS_IMMUTABLE_FL) != 0)
            {
                return (probe, true, false);
            }
        }
        catch
        {
            probe.Dispose();
            throw;
        }
    }

    // The second open must reach the inode the first one did: a path swapped in between is refused.
    private static NativeFile Same(NativeFile probe, NativeFile reopened)
    {
        var a = probe.Status();
        var b = reopened.Status();
        probe.Dispose();
        if (a.DevMajor != b.DevMajor || a.DevMinor != b.DevMinor || a.Inode != b.Inode)
        {
            reopened.Dispose();
            throw new IOException($"{reopened.Path} was replaced while it was opened");
        }
        return reopened;
    }

    private const int EPERM = 1;
    private const int EBUSY = 16;
}
