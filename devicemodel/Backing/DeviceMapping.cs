using XenVnvdimm.DeviceModel.Backing.Sysfs;

namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>Finds a backing's block device and namespace and decides its SPA mapping.</summary>
internal static class DeviceMapping
{
    /// <summary>
    /// Fills in the device, namespace and SPA map of <paramref name="r"/>; returns false (with a
    /// refusal recorded) when the device cannot be understood at all.
    /// </summary>
    public static bool Attach(BackingResolution r, BackingOptions options, uint major, uint minor)
    {
        try
        {
            r.Device = BlockDevice.Read(options.Sysfs, major, minor);
        }
        catch (InvalidDataException e)
        {
            r.AddRefusal(new Refusal(RefusalReason.Unsupported, 0, r.Size, e.Message));
            return false;
        }
        r.Namespace = r.Device.Namespace;
        ChooseSpa(r, options, r.Device.DiskSize);
        return true;
    }

    /// <summary>Uses the namespace's SPA, else the assumed base, else refuses as not pmem.</summary>
    public static void ChooseSpa(BackingResolution r, BackingOptions options, ulong deviceSize)
    {
        if (r.Namespace is { } ns)
        {
            if (options.AssumeSpaBase is not null)
                throw new UserErrorException($"{r.Path} is on pmem {ns.Name}: --assume-spa-base is only for backings that are not");
            r.Spa = SpaMap.ForNamespace(ns);
        }
        else if (options.AssumeSpaBase is { } spaBase)
        {
            r.Spa = SpaMap.Assumed(spaBase, deviceSize);
            r.SpaAssumed = true;
        }
        else
        {
            string device = r.Device is { } d ? $"{d.Name} is not a pmem namespace" : "the device is not a pmem namespace";
            r.AddRefusal(new Refusal(RefusalReason.NotPmem, 0, r.Size, $"{device} (use --assume-spa-base ADDR for tests)"));
        }
    }
}
