namespace XenVnvdimm.DeviceModel.Platforms.Qemu;

/// <summary>
/// Finds the guest harness (<c>run</c>), which boots the Debian kernel and initramfs: where the Debian
/// package installs it beside the program (<c>/usr/sbin/../lib/xen-vnvdimm/guest/run</c>), else
/// <c>scripts/guest/run</c> in a source tree above the program.
/// </summary>
internal static class GuestHarness
{
    public static string Locate()
    {
        if (Environment.GetEnvironmentVariable("XEN_VNVDIMM_GUEST_RUN") is { Length: > 0 } env)
            return File.Exists(env) ? env : throw new UserErrorException($"XEN_VNVDIMM_GUEST_RUN '{env}' does not exist");
        string installed = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "lib", "xen-vnvdimm", "guest", "run"));
        if (File.Exists(installed))
            return installed;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "scripts", "guest", "run");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new UserErrorException($"cannot find the guest harness ({installed}, or scripts/guest/run above the program); set XEN_VNVDIMM_GUEST_RUN");
    }
}
