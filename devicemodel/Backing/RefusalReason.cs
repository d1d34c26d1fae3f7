namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>Why (part of) a backing cannot be mapped into a guest.</summary>
public enum RefusalReason
{
    /// <summary>A range of the file has no blocks.</summary>
    Hole,
    /// <summary>Allocated but unwritten (fallocate): reads as zeros through the file, stale data through the frames.</summary>
    Unwritten,
    /// <summary>Shared with another file (reflink): a guest write would change the other file.</summary>
    Shared,
    /// <summary>Delayed allocation: no blocks yet.</summary>
    Delalloc,
    /// <summary>Location unknown to the filesystem.</summary>
    Unknown,
    /// <summary>Stored compressed or otherwise encoded.</summary>
    Encoded,
    /// <summary>Stored encrypted.</summary>
    Encrypted,
    /// <summary>Stored inline in metadata.</summary>
    Inline,
    /// <summary>Stored packed in a tail block.</summary>
    Tail,
    /// <summary>Not aligned to 4 KiB blocks.</summary>
    NotAligned,
    /// <summary>The filesystem block size is not 4096.</summary>
    BlockSize,
    /// <summary>The size is not a multiple of the required alignment.</summary>
    SizeNotAligned,
    /// <summary>The range lies in the namespace's metadata (below dataoff).</summary>
    Metadata,
    /// <summary>The range lies outside the namespace or device.</summary>
    OutsideNamespace,
    /// <summary>Another guest holds the backing's lock.</summary>
    InUse,
    /// <summary>The file changed while it was being resolved.</summary>
    Changed,
    /// <summary>The backing is not on persistent memory and no SPA base was assumed.</summary>
    NotPmem,
    /// <summary>The filesystem or device type cannot back a vNVDIMM.</summary>
    Unsupported,
    /// <summary>The namespace's info block is missing, corrupt or unknown.</summary>
    InfoBlock,
}
