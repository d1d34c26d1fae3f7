using System.CommandLine;
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
    private static readonly XenStoreServerOptions s_defaults = new();
    private static readonly Option<string> s_socket = new("--socket") { Description = "the Unix socket to listen on", HelpName = "PATH", Required = true };
    private static readonly Option<string?> s_dump = new("--dump")
    {
        Description = "write the tree to FILE on exit and on the CONTROL command 'dump'",
        HelpName = "FILE",
    };
    private static readonly Option<string> s_nodeSize = Quota("--quota-node-size", "largest node value in bytes", s_defaults.NodeSizeQuota);
    private static readonly Option<string> s_watches = Quota("--quota-watches", "watches per connection", s_defaults.WatchQuota);
    private static readonly Option<string> s_transactions = Quota("--quota-transactions", "open transactions per connection", s_defaults.TransactionQuota);

    public static Command Create()
    {
        var command = new Command("xenstored",
            "run the embedded xenstored on a Unix socket until SIGINT/SIGTERM (tests, and hosts without one)")
            { s_socket, s_dump, s_nodeSize, s_watches, s_transactions };
        command.SetMain(Run);
        return command;
    }

    private static Option<string> Quota(string name, string description, int fallback) =>
        new(name) { Description = description, HelpName = "N", DefaultValueFactory = _ => fallback.ToString(CultureInfo.InvariantCulture) };

    private static int Run(ParseResult args, ILoggerFactory logging)
    {
        string socketPath = args.GetValue(s_socket)!;
        string? dumpPath = args.GetValue(s_dump);
        var options = new XenStoreServerOptions
        {
            DumpPath = dumpPath is null ? null : Path.GetFullPath(dumpPath),
            NodeSizeQuota = Quota(args, s_nodeSize),
            WatchQuota = Quota(args, s_watches),
            TransactionQuota = Quota(args, s_transactions),
        };

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

    private static int Quota(ParseResult args, Option<string> option)
    {
        string text = args.GetValue(option)!;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value <= 0)
            throw new UserErrorException($"{option.Name} {text}: expected a positive integer");
        return value;
    }
}
