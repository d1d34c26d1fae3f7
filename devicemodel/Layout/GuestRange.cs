namespace XenVnvdimm.DeviceModel.Layout;

/// <summary>A named guest-physical (or I/O port) range, both ends inclusive.</summary>
/// <param name="What">What the guest or its firmware has there, as errors name it.</param>
/// <param name="First">First address.</param>
/// <param name="Last">Last address (inclusive).</param>
public sealed record GuestRange(string What, ulong First, ulong Last)
{
    /// <summary>Whether [first, last] shares an address with this range.</summary>
    public bool Overlaps(ulong first, ulong last) => first <= Last && last >= First;

    /// <summary>"what 0xfirst-0xlast".</summary>
    public override string ToString() => $"{What} 0x{First:x}-0x{Last:x}";
}
