namespace XenVnvdimm.DeviceModel.Lifecycle;

/// <summary>
/// Where the companion lives in xenstore, next to QEMU's own device-model node:
/// <c>/local/domain/0/device-model/&lt;domid&gt;/vnvdimm/</c> with <c>state</c>, <c>pid</c>,
/// <c>devices/&lt;slot&gt;/{backend,gpa,size,serial,state}</c>, the toolstack's <c>command</c>
/// node and one <c>result/&lt;request-id&gt;</c> node per command.
/// </summary>
public static class XenStoreLayout
{
    /// <summary>The companion's base path for a domain.</summary>
    public static string Base(uint domid) => $"/local/domain/0/device-model/{domid}/vnvdimm";

    /// <summary>The command node the toolstack writes: <c>&lt;request-id&gt; add &lt;device spec&gt;</c>.</summary>
    public static string Command(uint domid) => $"{Base(domid)}/command";

    /// <summary>The result node of one request: <c>ok slot=N</c> or <c>error: reason</c>.</summary>
    public static string Result(uint domid, string requestId) => $"{Base(domid)}/result/{requestId}";

    /// <summary>
    /// Where a command without a usable request id is answered: '@' is a valid xenstore path character
    /// but never part of a request id, so no request's own result can be this node.
    /// </summary>
    public static string InvalidIdResult(uint domid) => $"{Base(domid)}/result/@invalid";

    /// <summary>A device's node.</summary>
    public static string Device(uint domid, int slot) => $"{Base(domid)}/devices/{slot}";
}
