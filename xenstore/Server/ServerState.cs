using Microsoft.Extensions.Logging;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.XenStore.Server;

/// <summary>
/// Everything the server knows — tree, connections, domains, special-watch permissions — guarded by
/// one lock (<see cref="Gate"/>), so each request is atomic with respect to every other.
/// </summary>
internal sealed class ServerState(XenStoreServerOptions options, ILogger logger)
{
    public const string IntroduceDomain = "@introduceDomain";
    public const string ReleaseDomain = "@releaseDomain";

    public Lock Gate { get; } = new();

    public XenStoreServerOptions Options { get; } = options;

    public ILogger Logger { get; } = logger;

    public NodeTree Tree { get; } = new();

    public List<ServerConnection> Connections { get; } = [];

    /// <summary>Domains xenstored is "in contact with"; dom0 always.</summary>
    public HashSet<ushort> IntroducedDomains { get; } = [0];

    /// <summary>Permissions of the special watch paths (settable, as libxl does for stubdoms).</summary>
    public Dictionary<string, XenStorePermissions> SpecialPermissions { get; } = new(StringComparer.Ordinal)
    {
        [IntroduceDomain] = XenStorePermissions.Dom0Only,
        [ReleaseDomain] = XenStorePermissions.Dom0Only,
    };

    private uint _lastTransactionId;

    public uint NewTransactionId()
    {
        // Unique among open transactions of every connection; never 0 (0 means "none").
        while (true)
        {
            uint id = ++_lastTransactionId;
            if (id != 0 && !Connections.Any(c => c.Transactions.ContainsKey(id)))
                return id;
        }
    }

    /// <summary>Tells every watcher whose watch matches <paramref name="change"/> and who may read it.</summary>
    public void Fire(Change change)
    {
        bool special = change.Path.StartsWith('@');
        foreach (var connection in Connections)
        {
            foreach (var watch in connection.Watches)
            {
                string eventPath;
                if (special)
                {
                    if (watch.Path != change.Path)
                        continue;
                    eventPath = watch.Path;
                }
                else if (watch.Path.StartsWith('@'))
                    continue;
                else if (XsPath.IsChildOf(change.Path, watch.Path))
                    eventPath = change.Path;
                else if (change.Removal && XsPath.IsChildOf(watch.Path, change.Path))
                    eventPath = watch.Path; // a watched node went away with an ancestor
                else
                    continue;
                if (!connection.Caller.Can(change.Permissions, XenStoreAccess.Read))
                    continue;
                SendEvent(connection, watch, eventPath);
            }
        }
    }

    public static void SendEvent(ServerConnection connection, ServerWatch watch, string eventPath)
    {
        if (watch.RelativeBase is { } home && eventPath.StartsWith(home + "/", StringComparison.Ordinal))
            eventPath = eventPath[(home.Length + 1)..];
        connection.Send(new XsMessage(XsMessageType.WatchEvent, 0, 0, XsPayload.Strings(eventPath, watch.Token)));
    }

    /// <summary>Marks a domain introduced and fires @introduceDomain.</summary>
    public void Introduce(ushort domainId)
    {
        IntroducedDomains.Add(domainId);
        Fire(new Change(IntroduceDomain, SpecialPermissions[IntroduceDomain], Removal: false));
    }

    /// <summary>Forgets a domain (as on its death) and fires @releaseDomain; false if it was not introduced.</summary>
    public bool Release(ushort domainId)
    {
        if (domainId == 0 || !IntroducedDomains.Remove(domainId))
            return false;
        Fire(new Change(ReleaseDomain, SpecialPermissions[ReleaseDomain], Removal: false));
        return true;
    }

    /// <summary>Drops a connection: its transactions vanish without a trace, its watches stop.</summary>
    public void Remove(ServerConnection connection)
    {
        Connections.Remove(connection);
        connection.Transactions.Clear();
        connection.Watches.Clear();
    }
}
