namespace XenVnvdimm.DeviceModel.Lifecycle;

/// <summary>A parsed command from the command node: <c>&lt;request-id&gt; &lt;verb&gt; [argument]</c>.</summary>
/// <param name="RequestId">Token chosen by the toolstack: 1-64 letters, digits, '-' or '_' (it becomes a xenstore path element).</param>
/// <param name="Verb">"add" or another verb (refused).</param>
/// <param name="Argument">The device spec for "add".</param>
public sealed record HotAddCommand(string RequestId, string Verb, string Argument)
{
    /// <summary>Parses a command; null when even the request id is unusable.</summary>
    public static HotAddCommand? Parse(string text)
    {
        string t = text.Trim();
        int sp = t.IndexOf(' ');
        string id = sp < 0 ? t : t[..sp];
        if (id.Length is 0 or > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            return null;
        string rest = sp < 0 ? "" : t[(sp + 1)..].Trim();
        int sp2 = rest.IndexOf(' ');
        return sp2 < 0 ? new HotAddCommand(id, rest, "") : new HotAddCommand(id, rest[..sp2], rest[(sp2 + 1)..].Trim());
    }
}
