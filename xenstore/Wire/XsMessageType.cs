namespace XenVnvdimm.XenStore.Wire;

/// <summary>Message types of the xenstore wire protocol (<c>enum xsd_sockmsg_type</c> in xs_wire.h).</summary>
public enum XsMessageType : uint
{
    /// <summary>Implementation-specific control command (formerly DEBUG).</summary>
    Control = 0,
    /// <summary>Lists the children of a node.</summary>
    Directory = 1,
    /// <summary>Reads a node's value.</summary>
    Read = 2,
    /// <summary>Reads a node's permissions.</summary>
    GetPerms = 3,
    /// <summary>Registers a watch.</summary>
    Watch = 4,
    /// <summary>Removes a watch.</summary>
    Unwatch = 5,
    /// <summary>Starts a transaction.</summary>
    TransactionStart = 6,
    /// <summary>Commits or aborts a transaction.</summary>
    TransactionEnd = 7,
    /// <summary>Introduces a domain to xenstored.</summary>
    Introduce = 8,
    /// <summary>Releases a domain.</summary>
    Release = 9,
    /// <summary>Returns a domain's home path.</summary>
    GetDomainPath = 10,
    /// <summary>Writes a node's value.</summary>
    Write = 11,
    /// <summary>Creates a node.</summary>
    Mkdir = 12,
    /// <summary>Removes a node and its children.</summary>
    Rm = 13,
    /// <summary>Sets a node's permissions.</summary>
    SetPerms = 14,
    /// <summary>Unsolicited watch notification from the server.</summary>
    WatchEvent = 15,
    /// <summary>Error reply carrying an errno name.</summary>
    Error = 16,
    /// <summary>Asks whether a domain is introduced.</summary>
    IsDomainIntroduced = 17,
    /// <summary>Re-arms @releaseDomain for a domain.</summary>
    Resume = 18,
    /// <summary>Makes one domain the target of another.</summary>
    SetTarget = 19,
    /// <summary>Removed in Xen 4.9; kept for numbering.</summary>
    Restrict = 20,
    /// <summary>Drops all watches and transactions of the caller.</summary>
    ResetWatches = 21,
    /// <summary>Lists children from a byte offset (for long lists).</summary>
    DirectoryPart = 22,
    /// <summary>Guaranteed-invalid type.</summary>
    Invalid = 0xffff,
}

/// <summary>Facts about message types.</summary>
public static class XsMessageTypes
{
    /// <summary>True for the numbers the protocol defines (0..22); anything else is unknown.</summary>
    public static bool IsKnown(XsMessageType type) => (uint)type <= (uint)XsMessageType.DirectoryPart;
}
