using Microsoft.Extensions.Logging;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary><c>xen-vnvdimm host-scan [--json]</c>: the host's pmem SPA ranges, cross-checked.</summary>
internal static class HostScanCommand
{
    public static int Run(CommandArgs args, ILoggerFactory logging)
    {
        args.End();
        throw new UserErrorException("not implemented yet");
    }
}
