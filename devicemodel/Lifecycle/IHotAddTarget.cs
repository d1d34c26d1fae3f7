using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Layout;

namespace XenVnvdimm.DeviceModel.Lifecycle;

/// <summary>A running guest platform that can take one more vNVDIMM.</summary>
public interface IHotAddTarget
{
    /// <summary>
    /// Validates, maps and announces one device; on failure nothing stays mapped and the FIT is
    /// unchanged. Throws <see cref="UserErrorException"/> with the reason.
    /// </summary>
    Task<PlannedDevice> AddAsync(VnvdimmDeviceSpec spec, CancellationToken cancel);
}
