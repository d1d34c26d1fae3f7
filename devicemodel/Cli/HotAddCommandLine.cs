using System.CommandLine;
using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.XenStore.Client;

namespace XenVnvdimm.DeviceModel.Cli;

/// <summary>
/// <c>xen-vnvdimm hot-add --domid N 'SPEC' [--request-id ID] [--timeout SEC]</c>: writes an add
/// command for the companion of domain N into xenstore (waiting while another request is
/// pending), waits for its result and prints it. Exit 0 for <c>ok slot=N</c>, 1 for an error.
/// </summary>
internal static class HotAddCommandLine
{
    private static readonly Option<string> s_domid = new("--domid") { Description = "the guest's domain id", HelpName = "N", Required = true };
    private static readonly Option<string?> s_requestId = new("--request-id")
    {
        Description = "id of the request, and of its result node result/ID (letters, digits, '-', '_', '.'; default: PID-TICKS)",
        HelpName = "ID",
    };
    private static readonly Option<string> s_timeout = new("--timeout")
    {
        Description = "seconds to wait for the command node and the result",
        HelpName = "SEC",
        DefaultValueFactory = _ => "120",
    };
    private static readonly Argument<string> s_spec = new("SPEC")
    {
        Description = "one device, quoted, in xl's vnvdimms syntax: 'backend=/srv/pmem/vm1.img, label_size=128K'",
    };

    public static Command Create()
    {
        var command = new Command("hot-add",
            "add a vNVDIMM to a running guest through its companion; prints the result, exit 0 for 'ok slot=N', 1 for an error")
            { s_domid, s_requestId, s_timeout, s_spec };
        command.SetMain((r, _) => RunAsync(r).GetAwaiter().GetResult());
        return command;
    }

    private static async Task<int> RunAsync(ParseResult args)
    {
        string domText = args.GetValue(s_domid)!;
        string? id = args.GetValue(s_requestId);
        string timeoutText = args.GetValue(s_timeout)!;
        var rest = new[] { args.GetValue(s_spec)! };
        if (!uint.TryParse(domText, out uint domid) || domid is 0 or >= 0x7FF0)
            throw new UserErrorException($"--domid '{domText}' is not a guest domain id (1..32751)");
        int seconds = int.TryParse(timeoutText, out int t) && t is > 0 and <= 86400 ? t : throw new UserErrorException($"--timeout '{timeoutText}' is not a number of seconds in 1..86400");
        id ??= $"{Environment.ProcessId}-{DateTime.UtcNow.Ticks}";
        if (HotAddCommand.Parse($"{id} add") is null)
            throw new UserErrorException($"--request-id '{id}' may hold only letters, digits, '-', '_' and '.' (at most 64)");

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        XenStoreClient client;
        try
        {
            client = await XenStoreClient.ConnectAsync(cancellationToken: cts.Token);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or XenVnvdimm.XenStore.XenStoreConnectionException or InvalidOperationException)
        {
            throw new UserErrorException($"cannot connect to xenstore (set XENSTORED_PATH?): {e.Message}");
        }
        await using (client)
        {
            string state = await client.TryReadStringAsync($"{XenStoreLayout.Base(domid)}/state", cts.Token) ?? "(absent)";
            if (state != "running")
                throw new UserErrorException($"the vNVDIMM companion of domain {domid} is not running (state {state})");

            string command = XenStoreLayout.Command(domid), result = XenStoreLayout.Result(domid, id);
            await using var resultWatch = await client.WatchAsync(result, cancellationToken: cts.Token);
            await using var commandWatch = await client.WatchAsync(command, cancellationToken: cts.Token);
            try
            {
                // Wait for the command node to be free, then claim it in one transaction.
                while (!await client.TransactionAsync(async (tx, c) =>
                       {
                           if ((await tx.TryReadStringAsync(command, c) ?? "").Trim().Length != 0)
                               return false;
                           await tx.WriteAsync(command, $"{id} add {rest[0]}", c);
                           return true;
                       }, cts.Token))
                    await commandWatch.Events.ReadAsync(cts.Token);

                while (await client.TryReadStringAsync(result, cts.Token) is not { } answer)
                    await resultWatch.Events.ReadAsync(cts.Token);
                string text = (await client.TryReadStringAsync(result, cts.Token))!;
                Console.Out.WriteLine(text);
                return text.StartsWith("ok", StringComparison.Ordinal) ? 0 : 1;
            }
            catch (OperationCanceledException)
            {
                throw new UserErrorException($"no result for request {id} within {seconds} s");
            }
        }
    }
}
