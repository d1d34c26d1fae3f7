using System.Globalization;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.XenStore.Server;

/// <summary>TRANSACTION_START and TRANSACTION_END.</summary>
internal sealed partial class RequestProcessor
{
    private XenStoreErrno? TransactionStart(ServerConnection connection, XsMessage request)
    {
        if (request.TransactionId != 0)
            return XenStoreErrno.EBUSY;
        int limit = connection.Caller.Privileged ? state.Options.MaxTransactionsPerConnection
                                                 : Math.Min(state.Options.TransactionQuota, state.Options.MaxTransactionsPerConnection);
        if (connection.Transactions.Count >= limit)
            return XenStoreErrno.ENOSPC;
        uint id = state.NewTransactionId();
        connection.Transactions.Add(id, new TransactionView(state.Tree));
        Reply(connection, request, request.Type, XsPayload.Strings(id.ToString(CultureInfo.InvariantCulture)));
        return null;
    }

    private XenStoreErrno? TransactionEnd(ServerConnection connection, XsMessage request)
    {
        var args = XsPayload.Split(request.Payload.Span, out var rest);
        if (args.Count != 1 || rest is not null || args[0] is not ("T" or "F"))
            return XenStoreErrno.EINVAL;
        if (!connection.Transactions.Remove(request.TransactionId, out var tx))
            return XenStoreErrno.ENOENT;
        if (args[0] == "T")
        {
            if (tx.Conflicts())
                return XenStoreErrno.EAGAIN;
            tx.Apply();
            foreach (var change in tx.Changes)
                state.Fire(change);
        }
        return Ok(connection, request);
    }
}
