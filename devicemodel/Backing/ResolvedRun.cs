using XenVnvdimm.DeviceModel.Memory;

namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>
/// A physically contiguous piece of a backing: <paramref name="Length"/> bytes at file offset
/// <paramref name="FileOffset"/> stored at byte <paramref name="DeviceOffset"/> of the whole block
/// device (partition start included). 24 bytes; <see cref="RunList"/> stores runs in fewer.
/// </summary>
/// <param name="FileOffset">Offset in the backing file (0 for devices).</param>
/// <param name="DeviceOffset">Offset on the whole disk or dax device.</param>
/// <param name="Length">Length in bytes, a multiple of 4096.</param>
public readonly record struct ResolvedRun(ulong FileOffset, ulong DeviceOffset, ulong Length)
{
    /// <summary>Bytes per frame.</summary>
    public const ulong PageSize = 4096;

    /// <summary>The system physical address of the first byte, given the SPA of device byte 0.</summary>
    public ulong Spa(ulong deviceSpaBase) => deviceSpaBase + DeviceOffset;

    /// <summary>The run as guest frames (relative to the vNVDIMM's start) and machine frames.</summary>
    public FrameRun ToFrameRun(ulong deviceSpaBase)
        => new(FileOffset / PageSize, Spa(deviceSpaBase) / PageSize, Length / PageSize);
}
