using System.CommandLine;
using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Companion;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Platforms.Qemu;
using XenVnvdimm.DeviceModel.Platforms.Xen;
using XenVnvdimm.DeviceModel.Platforms.Xen.Qmp;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>xen-vnvdimm run --platform xen|sim --domid N --config FILE [--assume-spa-base ADDR] [--restrict]</c> serves a
/// Xen guest (or the simulated hypervisor) until the domain is released or a signal arrives (the guest
/// then keeps its pmem and a new run re-attaches);
/// <c>xen-vnvdimm run --platform qemu --config FILE [--domid N] [--guest-script S] [--console-log F]</c>:
/// runs a guest with its vNVDIMMs and serves its DSM calls until it exits; exits with the
/// guest's status. With --domid it publishes its state in xenstore and takes hot-add commands.
/// <c>--layout DIR</c> (what the device-model wrapper passes) runs the layout <c>xen-vnvdimm tables</c> recorded
/// in DIR, loaded rather than planned again, refusing it when the config changed since or when it does not
/// describe the acpi_firmware beside it; --config then defaults to the config the record names.
/// This is the edge: the environment is read here and nowhere below.
/// </summary>
internal static class RunCommand
{
    private static readonly Option<string> s_platform = new Option<string>("--platform")
    {
        Description = "xen: a real Xen guest (dom0); sim: the simulated hypervisor (tests); qemu: boot a local QEMU guest",
        HelpName = "xen|sim|qemu",
        Required = true,
    }.OneOf("xen", "sim", "qemu");
    private static readonly Option<string?> s_config = new("--config")
    {
        Description = "the guest's config (xl syntax); required unless --layout names a record, whose config it then defaults to",
        HelpName = "FILE",
    };
    private static readonly Option<string?> s_layout = new("--layout")
    {
        Description = "run the layout `tables` recorded in DIR, loaded, not planned again (what the device-model wrapper passes); refused when the config changed since or the record does not match the acpi_firmware beside it",
        HelpName = "DIR",
    };
    private static readonly Option<string?> s_domid = new("--domid")
    {
        Description = "the guest's domain id (required for xen and sim; for qemu: publish state in xenstore and take hot-adds)",
        HelpName = "N",
    };
    private static readonly Option<string?> s_spaBase = new("--assume-spa-base")
    {
        Description = "sim only: backings are not on pmem (tests): pretend the host's pmem starts at ADDR",
        HelpName = "ADDR",
    };
    private static readonly Option<bool> s_restrict = new("--restrict")
    {
        Description = "xen/sim: once serving, restrict privcmd and evtchn to the guest's domain (hot-add is then refused)",
    };
    private static readonly Option<string?> s_qmpGuard = new("--qmp-guard")
    {
        Description = "xen: stand in for libxl's QMP socket PATH of the guest's QEMU (what the device-model wrapper passes): xl migrate is then refused before the guest is suspended; everything else passes through",
        HelpName = "PATH",
    };
    private static readonly Option<string?> s_script = new("--guest-script")
    {
        Description = "qemu: shell script the guest runs after boot, then powers off (default: ndctl list)",
        HelpName = "FILE",
    };
    private static readonly Option<string?> s_consoleLog = new("--console-log")
    {
        Description = "qemu: write the guest console to FILE (default: stdout)",
        HelpName = "FILE",
    };
    private static readonly Option<string?> s_runDir = new("--run-dir")
    {
        Description = "qemu: where tables, the RAM file and sockets live (default: a new temporary directory)",
        HelpName = "DIR",
    };
    private static readonly Option<string> s_timeout = new("--timeout")
    {
        Description = "qemu: stop the guest after SEC seconds",
        HelpName = "SEC",
        DefaultValueFactory = _ => "300",
    };

    public static Command Create()
    {
        var command = new Command("run",
            "serve a guest's vNVDIMMs until the domain is released or SIGTERM/SIGINT (xen, sim), or boot a QEMU guest and serve it until it exits (qemu)")
        {
            s_platform, s_config, s_layout, s_domid, s_spaBase, s_restrict, s_qmpGuard, s_script, s_consoleLog, s_runDir, s_timeout, LabelDirectoryOption.Option, ClaimsDirectoryOption.Option,
        };
        // A daemon: start, devices, hot-adds and stop are worth a line each by default.
        command.SetMain(Run, LogLevel.Information);
        return command;
    }

    private static int Run(ParseResult args, ILoggerFactory logging)
    {
        string platform = args.GetValue(s_platform)!;
        string? configOption = args.GetValue(s_config);
        string? layoutDir = args.GetValue(s_layout);
        string? script = args.GetValue(s_script);
        string? log = args.GetValue(s_consoleLog);
        string? dir = args.GetValue(s_runDir);
        string timeout = args.GetValue(s_timeout)!;
        string? domid = args.GetValue(s_domid);
        string? spaBase = args.GetValue(s_spaBase);
        bool restrict = args.GetValue(s_restrict);
        string? qmpGuard = args.GetValue(s_qmpGuard);
        var labels = LabelDirectoryOption.Read(args, logging);
        // With --layout the companion runs the layout `tables` recorded, checked, never planned again.
        (Tables.LayoutRecord Record, GuestLayout Layout)? recorded = layoutDir is null ? null
            : Tables.LayoutRecord.Verify(layoutDir, configOption, platform == "qemu" ? GuestPlatform.Qemu : GuestPlatform.Xen);
        string config = recorded?.Record.ConfigPath
            ?? configOption ?? throw new UserErrorException("missing required option --config (or --layout DIR)");
        string stateDir = ClaimsDirectoryOption.StateDirectory;
        string claimsDir = ClaimsDirectoryOption.Read(args);
        string? xenstore = XenStore.Client.XenStoreEndpoint.Resolve(Environment.GetEnvironmentVariable(XenStore.Client.XenStoreEndpoint.EnvironmentVariable), File.Exists);
        var logger = logging.CreateLogger(platform);
        if (platform is "xen" or "sim")
        {
            if (domid is null || !ushort.TryParse(domid, out ushort xenDom) || xenDom is 0 or >= 0x7FF0)
                throw new UserErrorException($"--platform {platform} needs --domid with a guest domain id (1..32751), got '{domid}'");
            // On real Xen every frame mapped must be host pmem: an assumed SPA would map whatever RAM it names.
            if (spaBase is not null && platform != "sim")
                throw new UserErrorException($"--assume-spa-base '{spaBase}' is for --platform sim only: on xen every frame must be host pmem");
            ulong? spa = spaBase is null ? null : SizeParser.Parse(spaBase, "--assume-spa-base");
            var layout = recorded?.Layout ?? LayoutPlanner.Plan(VnvdimmConfig.Load(config, GuestPlatform.Xen, logger), labels: labels);
            var backend = new XenBackend(new XenBackendOptions(xenDom, platform == "sim", stateDir, spa, restrict), logging);
            Claims.IDomainLiveness liveness = platform == "sim" ? new Claims.SimDomainLiveness(stateDir) : Claims.XenDomainLiveness.OnHost();
            var claims = new Claims.ClaimRegistry(claimsDir, liveness, line => logger.LogInformation("claims: {Line}", line));
            var companion = new Companion.Companion(new CompanionOptions(xenDom, stateDir, xenstore, spa, labels, claims,
                HostPmem: platform == "sim" ? null : Backing.Sysfs.SysfsTree.System), layout, backend, logging);
            // A guard killed with its companion left libxl's path dead: the re-attaching run stands in again.
            if (qmpGuard is null && platform == "xen" && File.Exists(QemuLinkOf(stateDir, xenDom)))
                qmpGuard = $"/var/run/xen/qmp-libxl-{xenDom}";
            using var guard = qmpGuard is null ? null : StartQmpGuard(qmpGuard, xenDom, stateDir, logging);
            try
            {
                return companion.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
            finally
            {
                guard?.Stop(domainAlive: liveness.IsAlive(xenDom));
            }
        }
        if (spaBase is not null || restrict || qmpGuard is not null)
            throw new UserErrorException($"{(restrict ? "--restrict" : spaBase is not null ? "--assume-spa-base" : "--qmp-guard")} is for --platform xen|sim only");
        if (script is not null && !File.Exists(script))
            throw new UserErrorException($"--guest-script '{script}' does not exist");
        int seconds = int.TryParse(timeout, out int t) && t is > 0 and <= 86400 * 365 ? t : throw new UserErrorException($"--timeout '{timeout}' is not a positive number of seconds");

        ushort? dom = domid is null ? null
            : ushort.TryParse(domid, out ushort n) && n is > 0 and < 0x7FF0 ? n
            : throw new UserErrorException($"--domid '{domid}' is not a guest domain id (1..32751)");

        string harness = GuestHarness.Locate(Environment.GetEnvironmentVariable("XEN_VNVDIMM_GUEST_RUN"));
        var options = new QemuRunOptions(harness, script, log, dir, dom, seconds);
        var qemuLayout = recorded?.Layout ?? LayoutPlanner.Plan(VnvdimmConfig.Load(config, GuestPlatform.Qemu, logger), labels: labels);
        var qemu = new Companion.Companion(new CompanionOptions(dom, stateDir, xenstore, Labels: labels), qemuLayout, new QemuBackend(options, logging), logging);
        return qemu.RunAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    // In the background: with an older QEMU the socket appears only once QEMU runs, after the
    // wrapper saw the companion running; the companion does not wait for it.
    private static QmpGuard StartQmpGuard(string path, ushort domid, string stateDir, ILoggerFactory logging)
    {
        var guard = new QmpGuard(path, QemuLinkOf(stateDir, domid),
            pid => MigrationRefusal.IsLiveMigration(MigrationRefusal.CommandLineOf(pid)) ? MigrationRefusal.Reason(domid) : null,
            logging.CreateLogger("qmp"));
        _ = guard.InstallAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
        return guard;
    }

    private static string QemuLinkOf(string stateDir, ushort domid) => Path.Combine(stateDir, $"qmp-libxl-{domid}.qemu");
}
