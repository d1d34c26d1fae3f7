using XenVnvdimm.DeviceModel.Labels;

namespace XenVnvdimm.DeviceModel.Dsm;

/// <summary>One vNVDIMM as the DSM service sees it.</summary>
/// <param name="Handle">The NFIT device handle (the child device's _ADR); never 0, which is the root.</param>
/// <param name="Labels">The label area, or null when the device has none (label size 0).</param>
public sealed record DsmDevice(uint Handle, ILabelStore? Labels);
