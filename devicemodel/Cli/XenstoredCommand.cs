using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using XenVnvdimm.XenStore.Server;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>xen-vnvdimm xenstored --socket PATH [--dump FILE] [--quota-node-size N] [--quota-watches N]
/// [--quota-transactions N]</c>: runs the embedded xenstored until SIGINT/SIGTERM. With
/// <c>--dump</c>, the tree is written to FILE on exit and on the CONTROL command <c>dump</c>.
/// </summary>
internal static class XenstoredCommand
{
    public static int Run(CommandArgs args, ILoggerFactory logging)
    {
        string socketPath = args.Required("--socket");
        string? dumpPath = args.Option("--dump");
        var defaults = new XenStoreServerOptions();
        var options = new XenStoreServerOptions
        {
            DumpPath = dumpPath is null ? null : Path.GetFullPath(dumpPath),
            NodeSizeQuota = Quota(args, "--quota-node-size", defaults.NodeSizeQuota),
            WatchQuota = Quota(args, "--quota-watches", defaults.WatchQuota),
            TransactionQuota = Quota(args, "--quota-transactions", defaults.TransactionQuota),
        };
        args.End();

        string? directory = Path.GetDirectoryName(Path.GetFullPath(socketPath));
        if (directory is not null && !Directory.Exists(directory))
            throw new UserErrorException($"--socket {socketPath}: directory {directory} does not exist");

        if (options.DumpPath is { } dumpFile && !Directory.Exists(Path.GetDirectoryName(dumpFile)))
            throw new UserErrorException($"--dump {dumpPath}: directory {Path.GetDirectoryName(dumpFile)} does not exist");

        var logger = logging.CreateLogger("xenstored");
        var server = new XenStoreServer(options, logging);
        try
        {
            server.Start(socketPath);
        }
        catch (IOException e)
        {
            throw new UserErrorException($"--socket {socketPath}: {e.Message}", e);
        }

        using var stopped = new ManualResetEventSlim();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stopped.Set(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stopped.Set(); });
        stopped.Wait();

        logger.LogInformation("xenstored stopping");
        if (options.DumpPath is { } dump)
            server.DumpToFile(dump);
        server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }

    private static int Quota(CommandArgs args, string name, int fallback)
    {
        string? text = args.Option(name);
        if (text is null)
            return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value <= 0)
            throw new UserErrorException($"{name} {text}: expected a positive integer");
        return value;
    }
}
