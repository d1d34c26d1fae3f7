namespace XenVnvdimm.DeviceModel.Labels;

/// <summary>
/// The label storage area of one vNVDIMM (the bytes the guest reads and writes through _LSR/_LSW
/// or Intel _DSM functions 5 and 6). Offsets and lengths are validated by the caller; a store
/// throws <see cref="ArgumentOutOfRangeException"/> for a range outside <see cref="Size"/>.
/// </summary>
public interface ILabelStore
{
    /// <summary>Size of the label area in bytes.</summary>
    int Size { get; }

    /// <summary>
    /// The largest single transfer this store accepts, or null for no limit of its own (the DSM
    /// service then applies only its mailbox limit, <see cref="Dsm.DsmLimits.MaxTransfer"/>).
    /// </summary>
    int? MaxTransfer => null;

    /// <summary>Reads <paramref name="destination"/>.Length bytes at <paramref name="offset"/>.</summary>
    void Read(int offset, Span<byte> destination);

    /// <summary>
    /// Writes <paramref name="source"/> at <paramref name="offset"/>. Returns only once the write is
    /// durable, and a crash at any instant leaves either the old or the new content.
    /// </summary>
    void Write(int offset, ReadOnlySpan<byte> source);
}
