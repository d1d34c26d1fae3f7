using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Companion;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Platforms.Qemu;
using XenVnvdimm.DeviceModel.Platforms.Xen;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>xen-vnvdimm run --platform xen|sim --domid N --config FILE [--assume-spa-base ADDR] [--label-dir DIR]</c> serves a
/// Xen guest (or the simulated hypervisor) until the domain is released or a signal arrives (the guest
/// then keeps its pmem and a new run re-attaches);
/// <c>xen-vnvdimm run --platform qemu --config FILE [--domid N] [--guest-script S] [--console-log F]</c>:
/// runs a guest with its vNVDIMMs and serves its DSM calls until it exits; exits with the
/// guest's status. With --domid it publishes its state in xenstore and takes hot-add commands.
/// <c>--layout DIR</c> (what the device-model wrapper passes) starts from the record
/// <c>xen-vnvdimm tables</c> wrote in DIR, refusing it when the config changed since; --config then
/// defaults to the config the record names.
/// This is the edge: the environment is read here and nowhere below.
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
        var labels = LabelDirectoryOption.Read(args, logging);
        args.End();
        string config = layoutDir is null
            ? configOption ?? throw new UserErrorException("missing required option --config")
            : Tables.LayoutRecord.Verify(layoutDir, configOption, platform == "qemu" ? Config.GuestPlatform.Qemu : Config.GuestPlatform.Xen,
                logging.CreateLogger("run"), labels).ConfigPath;
        string stateDir = Environment.GetEnvironmentVariable("XEN_VNVDIMM_STATE_DIR") is { Length: > 0 } s ? s : CompanionStateFile.DefaultDirectory;
        var logger = logging.CreateLogger(platform);
        string? xenstore = XenStore.Client.XenStoreEndpoint.Resolve(Environment.GetEnvironmentVariable(XenStore.Client.XenStoreEndpoint.EnvironmentVariable), File.Exists);
        if (platform is "xen" or "sim")
        {
            if (domid is null || !ushort.TryParse(domid, out ushort xenDom) || xenDom is 0 or >= 0x7FF0)
                throw new UserErrorException($"--platform {platform} needs --domid with a guest domain id (1..32751), got '{domid}'");
            // On real Xen every frame mapped must be host pmem: an assumed SPA would map whatever RAM it names.
            if (spaBase is not null && platform != "sim")
                throw new UserErrorException($"--assume-spa-base '{spaBase}' is for --platform sim only: on xen every frame must be host pmem");
            ulong? spa = spaBase is null ? null : SizeParser.Parse(spaBase, "--assume-spa-base");
            var layout = LayoutPlanner.Plan(VnvdimmConfig.Load(config, GuestPlatform.Xen, logger), labels: labels);
            var backend = new XenBackend(new XenBackendOptions(xenDom, platform == "sim", stateDir, spa, restrict), logging);
            var companion = new Companion.Companion(new CompanionOptions(xenDom, stateDir, xenstore, spa, labels), layout, backend, logging);
            return companion.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        if (platform != "qemu")
            throw new UserErrorException($"--platform '{platform}' must be xen, sim or qemu");
        if (spaBase is not null || restrict)
            throw new UserErrorException($"{(restrict ? "--restrict" : "--assume-spa-base")} is for --platform xen|sim only");
        if (script is not null && !File.Exists(script))
            throw new UserErrorException($"--guest-script '{script}' does not exist");
        int seconds = timeout is null ? 300 : int.TryParse(timeout, out int t) && t > 0 ? t : throw new UserErrorException($"--timeout '{timeout}' is not a positive number of seconds");

        ushort? dom = domid is null ? null
            : ushort.TryParse(domid, out ushort n) && n is > 0 and < 0x7FF0 ? n
            : throw new UserErrorException($"--domid '{domid}' is not a guest domain id (1..32751)");

        string harness = GuestHarness.Locate(Environment.GetEnvironmentVariable("XEN_VNVDIMM_GUEST_RUN"));
        var options = new QemuRunOptions(harness, script, log, dir, dom, seconds);
        var qemuLayout = LayoutPlanner.Plan(VnvdimmConfig.Load(config, GuestPlatform.Qemu, logger), labels: labels);
        var qemu = new Companion.Companion(new CompanionOptions(dom, stateDir, xenstore, Labels: labels), qemuLayout, new QemuBackend(options, logging), logging);
        return qemu.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
    }
}
