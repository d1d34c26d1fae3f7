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
        return ProtectRawMetadata(r, options);
    }

    /// <summary>
    /// A raw namespace exposes its whole range, info block included. When one holds a pfn/dax info block
    /// (a namespace forced to raw mode), its first dataoff bytes are metadata: the SPA window starts
    /// after them so runs there are refused. Returns false when the info block is corrupt.
    /// </summary>
    public static bool ProtectRawMetadata(BackingResolution r, BackingOptions options)
    {
        if (r.Namespace is not { Mode: "raw" } ns || r.Device is not { } device || r.Spa is null)
            return true;
        string node = Path.Combine(options.DevDirectory, device.Disk);
        try
        {
            if (RawInfoBlock.Read(node, ns.Size) is { } block)
                r.Spa = r.Spa with { WindowStart = ns.Start + block.DataOffset, WindowEnd = ns.Start + ns.Size - block.EndTruncation };
            return true;
        }
        catch (InfoBlock.InfoBlockFormatException e)
        {
            r.AddRefusal(new Refusal(RefusalReason.InfoBlock, 0, r.Size, $"{node}: {e.Message}"));
            return false;
        }
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
