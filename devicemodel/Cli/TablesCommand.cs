using Microsoft.Extensions.Logging;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary><c>xen-vnvdimm tables</c>: builds the guest's ACPI tables, or decodes an NFIT.</summary>
internal static class TablesCommand
{
    public static int Run(CommandArgs args, ILoggerFactory logging)
    {
        args.End();
        throw new UserErrorException("not implemented yet");
    }
}
