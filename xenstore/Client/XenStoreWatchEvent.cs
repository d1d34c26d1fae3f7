namespace XenVnvdimm.XenStore.Client;

/// <summary>A watch firing: the path that changed (or the watched path itself) and the watch's token.</summary>
/// <param name="Path">Path of the change; relative when the watch was registered with a relative path.</param>
/// <param name="Token">Token given when the watch was registered.</param>
public sealed record XenStoreWatchEvent(string Path, string Token);
