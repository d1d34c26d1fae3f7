namespace XenVnvdimm.DeviceModel.Platforms.Qemu;

/// <summary>Finds the project's guest harness (<c>scripts/guest/run</c>), which boots the Debian kernel and initramfs.</summary>
internal static class GuestHarness
{
    public static string Locate()
    {
        if (Environment.GetEnvironmentVariable("XEN_VNVDIMM_GUEST_RUN") is { Length: > 0 } env)
            return File.Exists(env) ? env : throw new UserErrorException($"XEN_VNVDIMM_GUEST_RUN '{env}' does not exist");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "scripts", "guest", "run");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new UserErrorException("cannot find scripts/guest/run above the program; set XEN_VNVDIMM_GUEST_RUN");
    }
}
