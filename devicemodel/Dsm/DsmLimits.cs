using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.DeviceModel.Dsm;

/// <summary>Sizes and codes the DSM service answers with, beyond <see cref="P"/>.</summary>
public static class DsmLimits
{
    /// <summary>
    /// Largest label read or write per call, reported as max_xfer by _LSI and Intel function 4:
    /// <see cref="P.DataSize"/> − 8 = 4024 bytes. A write's input is {u32 offset, u32 length,
    /// data}, so 8 + 4024 fills the data area exactly; a read's output {u32 status, data} then
    /// needs 4028 ≤ 4032. 4024 is a multiple of 8, so label-sized chunks stay aligned.
    /// </summary>
    public const int MaxTransfer = P.DataSize - 8;

    /// <summary>Largest FIT chunk per read: the data area minus the u32 status.</summary>
    public const int MaxFitChunk = P.DataSize - 4;

    /// <summary>
    /// Status "hardware error" of the NVDIMM DSM interface (status codes 0–3 are in
    /// <see cref="P"/>; 4 is the same interface's HW error). Sent when the label store fails
    /// (disk full, I/O error): the guest must not believe a label write that did not happen.
    /// </summary>
    public const uint StatusHardwareError = 4;

    /// <summary>The only _DSM revision served (Linux asks revision 1 for functions 0 and 4–6).</summary>
    public const uint Revision = 1;

    /// <summary>Intel family function: get label area size.</summary>
    public const uint IntelGetConfigSize = 4;
    /// <summary>Intel family function: get label data.</summary>
    public const uint IntelGetConfigData = 5;
    /// <summary>Intel family function: set label data.</summary>
    public const uint IntelSetConfigData = 6;

    /// <summary>Function-0 bitmap of the Intel family for a device with labels: functions 0, 4, 5, 6.</summary>
    public const byte IntelLabelFunctions = 1 << 0 | 1 << 4 | 1 << 5 | 1 << 6;
}
