using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Platforms.Qemu;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>xen-vnvdimm run --platform xen|sim --domid N --config FILE [--assume-spa-base ADDR]</c> serves a
/// Xen guest (or the simulated hypervisor) until the domain is released or a signal arrives;
/// <c>xen-vnvdimm run --platform qemu --config FILE [--domid N] [--guest-script S] [--console-log F]</c>:
/// runs a guest with its vNVDIMMs and serves its DSM calls until it exits; exits with the
/// guest's status. With --domid it publishes its state in xenstore and takes hot-add commands.
/// <c>--layout DIR</c> (what the device-model wrapper passes) starts from the record
/// <c>xen-vnvdimm tables</c> wrote in DIR, refusing it when the config changed since; --config then
/// defaults to the config the record names.
/// </summary>
internal static class RunCommand
{
    public static int Run(CommandArgs args, ILoggerFactory logging)
    {
        string platform = args.Option("--platform") ?? "qemu";
        string? layoutDir = args.Option("--layout");
        string? configOption = args.Option("--config");
        string? script = args.Option("--guest-script");
        string? log = args.Option("--console-log");
        string? dir = args.Option("--run-dir");
        string? timeout = args.Option("--timeout");
        string? domid = args.Option("--domid");
        string? spaBase = args.Option("--assume-spa-base");
        bool restrict = args.Flag("--restrict");
        args.End();
        string config = layoutDir is null
            ? configOption ?? throw new UserErrorException("missing required option --config")
            : Tables.LayoutRecord.Verify(layoutDir, configOption, platform == "qemu" ? Config.GuestPlatform.Qemu : Config.GuestPlatform.Xen,
                logging.CreateLogger("run")).ConfigPath;
        if (platform is "xen" or "sim")
        {
            if (domid is null || !ushort.TryParse(domid, out ushort xenDom) || xenDom is 0 or >= 0x7FF0)
                throw new UserErrorException($"--platform {platform} needs --domid with a guest domain id (1..32751), got '{domid}'");
            ulong? spa = spaBase is null ? null : Config.SizeParser.Parse(spaBase, "--assume-spa-base");
            var xen = new Platforms.Xen.XenPlatform(new Platforms.Xen.XenRunOptions(config, xenDom, spa, platform == "sim", restrict), logging);
            return xen.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        if (platform != "qemu")
            throw new UserErrorException($"--platform '{platform}' must be xen, sim or qemu");
        if (script is not null && !File.Exists(script))
            throw new UserErrorException($"--guest-script '{script}' does not exist");
        int seconds = timeout is null ? 300 : int.TryParse(timeout, out int t) && t > 0 ? t : throw new UserErrorException($"--timeout '{timeout}' is not a positive number of seconds");

        uint? dom = domid is null ? null
            : uint.TryParse(domid, out uint n) && n is > 0 and < 0x7FF0 ? n
            : throw new UserErrorException($"--domid '{domid}' is not a guest domain id (1..32751)");

        var options = new QemuRunOptions(config, script, log, dir, dom, seconds);
        return new QemuPlatform(options, logging).RunAsync(CancellationToken.None).GetAwaiter().GetResult();
    }
}
