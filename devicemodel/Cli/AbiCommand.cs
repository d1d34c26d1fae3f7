using System.CommandLine;
using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>xen-vnvdimm abi --json</c>: prints every Xen structure (size, field offsets) and constant the program
/// marshals, as the C# code sees them, for comparison with Xen's own headers.
/// </summary>
internal static class AbiCommand
{
    private static readonly Option<bool> s_json = new("--json") { Description = "print JSON (the only format)" };

    public static Command Create()
    {
        var command = new Command("abi", "print the Xen structures and constants this program marshals") { s_json };
        command.SetMain(Run);
        return command;
    }

    private static int Run(ParseResult args, ILoggerFactory logging)
    {
        bool json = args.GetValue(s_json);
        if (!json)
            throw new UserErrorException("only --json output exists: use 'xen-vnvdimm abi --json'");
        // Through Console.Out, so callers that redirect it (tests, hosts) get the report.
        using var buffer = new MemoryStream();
        AbiCatalog.WriteJson(buffer);
        Console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        return 0;
    }
}
