using System.CommandLine;
using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Claims;
using XenVnvdimm.DeviceModel.Xen;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>xen-vnvdimm gc [--platform xen|sim] [--claims-dir DIR]</c>: drops the frame claims of domains
/// that are gone, clearing the immutable flag a companion set on their files; prints one line per
/// claim dropped or file unpinned, then one per claim kept. Claims of live domains are never touched.
/// </summary>
internal static class GcCommand
{
    private static readonly Option<string> s_platform = new Option<string>("--platform")
    {
        Description = "who says which domains exist: xen (the hypervisor) or sim (the simulator's state)",
        HelpName = "xen|sim",
        DefaultValueFactory = _ => "xen",
    }.OneOf("xen", "sim");

    public static Command Create()
    {
        var command = new Command("gc",
            "drop the frame claims (and pins) of domains that are gone; claims of live domains are never touched")
            { s_platform, ClaimsDirectoryOption.Option };
        command.SetMain(Run);
        return command;
    }

    private static int Run(ParseResult args, ILoggerFactory logging)
    {
        string platform = args.GetValue(s_platform)!;
        string stateDir = ClaimsDirectoryOption.StateDirectory;
        string dir = ClaimsDirectoryOption.Read(args);
        if (!Directory.Exists(dir))
        {
            Console.Out.WriteLine($"no claims ({dir} does not exist)");
            return 0;
        }
        XenDevices? devices = null;
        try
        {
            IDomainLiveness liveness = platform == "sim"
                ? new SimDomainLiveness(stateDir)
                : new XenDomainLiveness(Privcmd(devices = OpenHost()));
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
