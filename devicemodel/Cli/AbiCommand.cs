using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>xen-vnvdimm abi --json</c>: prints every Xen structure (size, field offsets) and constant the program
/// marshals, as the C# code sees them, for comparison with Xen's own headers.
/// </summary>
internal static class AbiCommand
{
    public static int Run(CommandArgs args, ILoggerFactory logging)
    {
        bool json = args.Flag("--json");
        args.End();
        if (!json)
            throw new UserErrorException("only --json output exists: use 'xen-vnvdimm abi --json'");
        using var stdout = Console.OpenStandardOutput();
        AbiCatalog.WriteJson(stdout);
        stdout.Write("\n"u8);
        return 0;
    }
}
