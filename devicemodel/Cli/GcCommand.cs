using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Claims;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Xen;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>xen-vnvdimm gc [--platform xen|sim] [--claims-dir DIR]</c>: drops the frame claims of domains
/// that are gone, clearing the immutable flag a companion set on their files; prints one line per
/// claim dropped or file unpinned, then one per claim kept. Claims of live domains are never touched.
/// </summary>
internal static class GcCommand
{
    public static int Run(CommandArgs args, ILoggerFactory logging)
    {
        string platform = args.Option("--platform") ?? "xen";
        string stateDir = Environment.GetEnvironmentVariable("XEN_VNVDIMM_STATE_DIR") is { Length: > 0 } s ? s : CompanionStateFile.DefaultDirectory;
        string dir = args.Option("--claims-dir") ?? Path.Combine(stateDir, "claims");
        args.End();
        if (!Directory.Exists(dir))
        {
            Console.Out.WriteLine($"no claims ({dir} does not exist)");
            return 0;
        }
        XenDevices? devices = null;
        try
        {
            IDomainLiveness liveness = platform switch
            {
                "sim" => new SimDomainLiveness(stateDir),
                "xen" => new XenDomainLiveness(Privcmd(devices = OpenHost())),
                _ => throw new UserErrorException($"--platform '{platform}' must be xen or sim"),
            };
            var registry = new ClaimRegistry(dir, liveness);
            foreach (string line in registry.Reap())
                Console.Out.WriteLine(line);
            foreach (var c in registry.List())
                Console.Out.WriteLine($"kept {c.Holder}: {c.Frames.Count} frame ranges from {c.Frames[0]}{(c.PinnedPath is { } p ? $", pinned {p}{(c.PinnedByUs ? "" : " (flag not ours)")}" : "")}");
            return 0;
        }
        finally
        {
            devices?.Dispose();
        }
    }

    private static XenDevices OpenHost()
    {
        try
        {
            return XenDevices.OpenHost();
        }
        catch (XenException e)
        {
            throw new UserErrorException($"cannot ask Xen which domains exist (/dev/xen/privcmd: {e.Message}); on a host without Xen use --platform sim", e);
        }
    }

    private static Privcmd Privcmd(XenDevices d) => new(d.Privcmd, d.Hypercall);
}
