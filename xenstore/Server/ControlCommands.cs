using System.Globalization;
using Microsoft.Extensions.Logging;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.XenStore.Server;

/// <summary>
/// CONTROL commands (<c>command|args...</c>). Besides xenstored's <c>help</c>, <c>check</c> and
/// <c>print</c>, the embedded server lets tests play the hypervisor's part:
/// <c>introduce|DOMID</c> and <c>release|DOMID</c> fire @introduceDomain / @releaseDomain as a
/// domain's birth and death would, <c>set-domid|DOMID</c> makes this connection act as that
/// (unprivileged) domain, and <c>dump</c> writes the tree to the configured dump file.
/// All but <c>help</c> need a privileged connection.
/// </summary>
internal sealed class ControlCommands(ServerState state)
{
    public const string Help = "help\ncheck\nprint|<text>\nintroduce|<domid>\nrelease|<domid>\nset-domid|<domid>\ndump\n";

    public XenStoreErrno? Run(ServerConnection connection, XsMessage request, Action<ServerConnection, XsMessage, XsMessageType, ReadOnlyMemory<byte>> reply)
    {
        var args = XsPayload.Split(request.Payload.Span, out var rest);
        if (args.Count == 0 || rest is not null)
            return XenStoreErrno.EINVAL;
        if (args[0] == "help")
        {
            reply(connection, request, request.Type, XsPayload.Strings(Help));
            return null;
        }
        if (!connection.Caller.Privileged)
            return XenStoreErrno.EACCES;

        ushort domid = 0;
        bool needsDomain = args[0] is "introduce" or "release" or "set-domid";
        if (needsDomain && (args.Count != 2 || !ushort.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out domid)))
            return XenStoreErrno.EINVAL;

        switch (args[0])
        {
            case "check":
                break;
            case "print":
                state.Logger.LogInformation("control print: {Text}", string.Join(' ', args.Skip(1)));
                break;
            case "introduce":
                if (domid == 0)
                    return XenStoreErrno.EINVAL;
                state.Introduce(domid);
                break;
            case "release":
                if (!state.Release(domid))
                    return XenStoreErrno.ENOENT;
                break;
            case "set-domid":
                // One way only: a connection that gave up privilege cannot take it back.
                if (domid != 0)
                    connection.Caller = new Caller(domid, Privileged: false);
                break;
            case "dump":
                if (state.Options.DumpPath is not { } dumpPath)
                    return XenStoreErrno.ENOSYS;
                try
                {
                    TreeDump.WriteFile(state.Tree, dumpPath);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    state.Logger.LogWarning("dump to {Path} failed: {Reason}", dumpPath, e.Message);
                    return XenStoreErrno.EIO;
                }
                break;
            default:
                return XenStoreErrno.EINVAL;
        }
        reply(connection, request, request.Type, XsPayload.Ok);
        return null;
    }
}
