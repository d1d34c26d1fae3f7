namespace XenVnvdimm.DeviceModel.Platforms.Qemu;

/// <summary>Finds the project's guest harness (<c>scripts/guest/run</c>), which boots the Debian kernel and initramfs.</summary>
internal static class GuestHarness
{
    /// <summary>
    /// <paramref name="configured"/> when given (the CLI's XEN_VNVDIMM_GUEST_RUN), else <c>scripts/guest/run</c>
    /// above the program, else the installed copy beside it (<c>../lib/xen-vnvdimm/guest/run</c>).
    /// </summary>
    public static string Locate(string? configured)
    {
        if (configured is { Length: > 0 })
            return File.Exists(configured) ? configured : throw new UserErrorException($"guest harness '{configured}' (XEN_VNVDIMM_GUEST_RUN) does not exist");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "scripts", "guest", "run");
            if (File.Exists(candidate))
                return candidate;
        }
        string installed = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "lib", "xen-vnvdimm", "guest", "run"));
        if (File.Exists(installed))
            return installed;
        throw new UserErrorException($"cannot find the guest harness: neither scripts/guest/run above the program nor {installed}; set XEN_VNVDIMM_GUEST_RUN");
    }
}
