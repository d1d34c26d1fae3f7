using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.XenStore.Server;

/// <summary>WATCH and UNWATCH.</summary>
internal sealed partial class RequestProcessor
{
    private XenStoreErrno? Watch(ServerConnection connection, XsMessage request)
    {
        var args = XsPayload.Split(request.Payload.Span, out var rest);
        if (args.Count < 2 || rest is not null)
            return XenStoreErrno.EINVAL;
        string path;
        string? relativeBase = null;
        if (XsPath.IsSpecial(args[0]))
            path = args[0];
        else if (!TryResolve(connection, args[0], out path))
            return XenStoreErrno.EINVAL;
        else if (!args[0].StartsWith('/'))
            relativeBase = XsPath.DomainPath(connection.Caller.DomainId);
        if (connection.Watches.Any(w => w.Path == path && w.Token == args[1]))
            return XenStoreErrno.EEXIST;
        int limit = connection.Caller.Privileged ? state.Options.MaxWatchesPerConnection
                                                 : Math.Min(state.Options.WatchQuota, state.Options.MaxWatchesPerConnection);
        if (connection.Watches.Count >= limit)
            return XenStoreErrno.E2BIG;
        var watch = new ServerWatch(path, args[1], relativeBase);
        connection.Watches.Add(watch);
        Ok(connection, request);
        // Fire once at registration, after the reply, as xenstored does.
        ServerState.SendEvent(connection, watch, path);
        return null;
    }

    private XenStoreErrno? Unwatch(ServerConnection connection, XsMessage request)
    {
        var args = XsPayload.Split(request.Payload.Span, out var rest);
        if (args.Count < 2 || rest is not null)
            return XenStoreErrno.EINVAL;
        string path = args[0];
        if (!XsPath.IsSpecial(path) && !TryResolve(connection, args[0], out path))
            return XenStoreErrno.EINVAL;
        int index = connection.Watches.FindIndex(w => w.Path == path && w.Token == args[1]);
        if (index < 0)
            return XenStoreErrno.ENOENT;
        connection.Watches.RemoveAt(index);
        return Ok(connection, request);
    }
}
