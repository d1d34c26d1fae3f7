using XenVnvdimm.DeviceModel.Backing.Kernel;

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
        try
        {
            file = NativeFile.Open(Path.GetFullPath(path), writable);
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
                keepOpen = !(lockedElsewhere = !file.TryLockExclusive());
            else
                lockedElsewhere = file.IsLockedElsewhere();

            // Never write to a backing another guest holds: zero-filling is only for an idle file.
            if (lockedElsewhere)
                options = options with { ZeroUnwritten = false };

            if (status.IsRegular)
                result = FileBackingResolver.Resolve(file, status, options, keepOpen ? file : null);
            else if (status.IsBlockDevice || status.IsCharDevice)
                result = DeviceBackingResolver.Resolve(file, status, options, keepOpen ? file : null);
            else
                throw new UserErrorException($"{path}: not a regular file, a pmem block device or a dax device");

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
}
