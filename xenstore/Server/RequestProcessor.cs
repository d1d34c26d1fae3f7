using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.XenStore.Server;

/// <summary>
/// Answers one request. Every malformed request gets an ERROR reply (EINVAL, mostly) and the
/// connection carries on; only framing errors (handled by the reader) close a connection.
/// Called with the state's lock held.
/// </summary>
internal sealed partial class RequestProcessor(ServerState state)
{
    private readonly ControlCommands _control = new(state);

    public void Process(ServerConnection connection, XsMessage request)
    {
        XenStoreErrno? error;
        try
        {
            error = Dispatch(connection, request);
        }
        catch (Exception e)
        {
            // A bug must cost one request, not the server.
            state.Logger.LogError(e, "connection {Id}: request {Type} failed", connection.Id, request.Type);
            error = XenStoreErrno.EIO;
        }
        if (error is { } errno)
            Reply(connection, request, XsMessageType.Error, Encoding.ASCII.GetBytes(XsErrors.ToWire(errno) + "\0"));
    }

    private XenStoreErrno? Dispatch(ServerConnection connection, XsMessage request)
    {
        var payload = request.Payload.Span;
        switch (request.Type)
        {
            case XsMessageType.Read:
            case XsMessageType.Directory:
            case XsMessageType.GetPerms:
            case XsMessageType.Mkdir:
            case XsMessageType.Rm:
                return OnePathRequest(connection, request);
            case XsMessageType.Write:
                return Write(connection, request);
            case XsMessageType.DirectoryPart:
                return DirectoryPart(connection, request);
            case XsMessageType.SetPerms:
                return SetPermissions(connection, request);
            case XsMessageType.Watch:
                return Watch(connection, request);
            case XsMessageType.Unwatch:
                return Unwatch(connection, request);
            case XsMessageType.TransactionStart:
                return TransactionStart(connection, request);
            case XsMessageType.TransactionEnd:
                return TransactionEnd(connection, request);
            case XsMessageType.GetDomainPath:
                if (!TryDomainArgument(payload, 1, out var domid, out _))
                    return XenStoreErrno.EINVAL;
                Reply(connection, request, request.Type, XsPayload.Strings(XsPath.DomainPath(domid)));
                return null;
            case XsMessageType.IsDomainIntroduced:
                if (!TryDomainArgument(payload, 1, out domid, out _))
                    return XenStoreErrno.EINVAL;
                Reply(connection, request, request.Type, XsPayload.Strings(state.IntroducedDomains.Contains(domid) ? "T" : "F"));
                return null;
            case XsMessageType.Introduce:
                if (!connection.Caller.Privileged)
                    return XenStoreErrno.EACCES;
                if (!TryDomainArgument(payload, 3, out domid, out _) || domid == 0)
                    return XenStoreErrno.EINVAL;
                state.Introduce(domid);
                return Ok(connection, request);
            case XsMessageType.Release:
                if (!connection.Caller.Privileged)
                    return XenStoreErrno.EACCES;
                if (!TryDomainArgument(payload, 1, out domid, out _))
                    return XenStoreErrno.EINVAL;
                return state.Release(domid) ? Ok(connection, request) : XenStoreErrno.ENOENT;
            case XsMessageType.Resume:
                if (!connection.Caller.Privileged)
                    return XenStoreErrno.EACCES;
                if (!TryDomainArgument(payload, 1, out domid, out _))
                    return XenStoreErrno.EINVAL;
                return state.IntroducedDomains.Contains(domid) ? Ok(connection, request) : XenStoreErrno.ENOENT;
            case XsMessageType.ResetWatches:
                connection.Watches.Clear();
                connection.Transactions.Clear();
                return Ok(connection, request);
            case XsMessageType.Control:
                return _control.Run(connection, request, Reply);
            case XsMessageType.SetTarget:
            case XsMessageType.Restrict:
                return XenStoreErrno.ENOSYS;
            default:
                // WATCH_EVENT and ERROR are server-to-client only; other numbers are unknown.
                return XenStoreErrno.EINVAL;
        }
    }

    private XenStoreErrno? OnePathRequest(ServerConnection connection, XsMessage request)
    {
        var args = XsPayload.Split(request.Payload.Span, out var rest);
        if (args.Count != 1 || rest is not null)
            return XenStoreErrno.EINVAL;
        if (request.Type == XsMessageType.GetPerms && state.SpecialPermissions.TryGetValue(args[0], out var special))
        {
            Reply(connection, request, request.Type, XsPayload.Strings([.. special.ToStrings()]));
            return null;
        }
        if (!TryResolve(connection, args[0], out var path))
            return XenStoreErrno.EINVAL;
        var error = WithView(connection, request, out var ops, out var tx);
        if (error is not null)
            return error;
        switch (request.Type)
        {
            case XsMessageType.Read:
                error = ops!.Read(path, out var value);
                if (error is null)
                    Reply(connection, request, request.Type, value);
                return error;
            case XsMessageType.Directory:
                error = ops!.Directory(path, out var node);
                if (error is not null)
                    return error;
                var list = XsPayload.Strings([.. node!.Children]);
                if (list.Length > XsLimits.PayloadMax)
                    return XenStoreErrno.E2BIG; // the client retries with DIRECTORY_PART
                Reply(connection, request, request.Type, list);
                return null;
            case XsMessageType.GetPerms:
                error = ops!.GetPermissions(path, out var permissions);
                if (error is null)
                    Reply(connection, request, request.Type, XsPayload.Strings([.. permissions.ToStrings()]));
                return error;
            case XsMessageType.Mkdir:
                return Finish(connection, request, tx, ops!.Mkdir(path));
            default:
                return Finish(connection, request, tx, ops!.Remove(path));
        }
    }

    private XenStoreErrno? Write(ServerConnection connection, XsMessage request)
    {
        var payload = request.Payload.Span;
        int nul = payload.IndexOf((byte)0);
        if (nul < 0 || !TryResolve(connection, Encoding.UTF8.GetString(payload[..nul]), out var path))
            return XenStoreErrno.EINVAL;
        var error = WithView(connection, request, out var ops, out var tx);
        return error ?? Finish(connection, request, tx, ops!.Write(path, payload[(nul + 1)..].ToArray()));
    }

    private XenStoreErrno? SetPermissions(ServerConnection connection, XsMessage request)
    {
        var args = XsPayload.Split(request.Payload.Span, out var rest);
        if (args.Count < 2 || rest is not null)
            return XenStoreErrno.EINVAL;
        XenStorePermissions permissions;
        try
        {
            permissions = XenStorePermissions.Parse(args.GetRange(1, args.Count - 1));
        }
        catch (FormatException)
        {
            return XenStoreErrno.EINVAL;
        }
        if (XsPath.IsSpecial(args[0]))
        {
            if (!state.SpecialPermissions.ContainsKey(args[0]))
                return XenStoreErrno.ENOENT;
            if (!connection.Caller.Privileged)
                return XenStoreErrno.EACCES;
            state.SpecialPermissions[args[0]] = permissions;
            return Ok(connection, request);
        }
        if (!TryResolve(connection, args[0], out var path))
            return XenStoreErrno.EINVAL;
        var error = WithView(connection, request, out var ops, out var tx);
        return error ?? Finish(connection, request, tx, ops!.SetPermissions(path, permissions));
    }

    private XenStoreErrno? DirectoryPart(ServerConnection connection, XsMessage request)
    {
        var args = XsPayload.Split(request.Payload.Span, out var rest);
        if (args.Count != 2 || rest is not null || !TryResolve(connection, args[0], out var path)
            || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out int offset))
            return XenStoreErrno.EINVAL;
        var error = WithView(connection, request, out var ops, out _);
        if (error is not null)
            return error;
        error = ops!.Directory(path, out var node);
        if (error is not null)
            return error;
        Reply(connection, request, request.Type, DirectoryChunk.Build(node!, offset));
        return null;
    }

    // Node operations run on the live tree, or on the transaction named by tx_id (ENOENT if none).
    private XenStoreErrno? WithView(ServerConnection connection, XsMessage request, out NodeOperations? ops, out TransactionView? tx)
    {
        ops = null;
        tx = null;
        if (request.TransactionId != 0 && !connection.Transactions.TryGetValue(request.TransactionId, out tx))
            return XenStoreErrno.ENOENT;
        INodeView view = tx is null ? state.Tree : tx;
        ops = new NodeOperations(view, connection.Caller, state.Options, tx?.Changes ?? _immediate);
        return null;
    }

    private readonly List<Change> _immediate = [];

    // Fires what a non-transactional change did (before the reply, as xenstored orders them), then replies.
    private XenStoreErrno? Finish(ServerConnection connection, XsMessage request, TransactionView? tx, XenStoreErrno? error)
    {
        if (tx is null)
        {
            foreach (var change in _immediate)
                state.Fire(change);
            _immediate.Clear();
        }
        return error ?? Ok(connection, request);
    }

    private bool TryResolve(ServerConnection connection, string path, out string absolute)
    {
        absolute = path;
        if (!XsPath.IsValid(path) || path.StartsWith('@'))
            return false;
        if (path[0] != '/')
            absolute = XsPath.DomainPath(connection.Caller.DomainId) + "/" + path;
        return absolute.Length <= XsLimits.AbsolutePathMax;
    }

    private static bool TryDomainArgument(ReadOnlySpan<byte> payload, int expectedArgs, out ushort domainId, out List<string> args)
    {
        domainId = 0;
        args = XsPayload.Split(payload, out var rest);
        return args.Count >= expectedArgs && rest is null
               && ushort.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out domainId);
    }

    private static XenStoreErrno? Ok(ServerConnection connection, XsMessage request)
    {
        Reply(connection, request, request.Type, XsPayload.Ok);
        return null;
    }

    private static void Reply(ServerConnection connection, XsMessage request, XsMessageType type, ReadOnlyMemory<byte> payload) =>
        connection.Send(new XsMessage(type, request.RequestId, request.TransactionId, payload));
}
