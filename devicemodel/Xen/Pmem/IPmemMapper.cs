using XenVnvdimm.DeviceModel.Memory;

namespace XenVnvdimm.DeviceModel.Xen.Pmem;

/// <summary>
/// Puts host pmem frames into a guest's physical address space and takes them out again. Map is all or
/// nothing: on failure nothing it added stays mapped.
/// </summary>
internal interface IPmemMapper
{
    /// <summary>Short name of the hypervisor interface used, for logs and benchmarks.</summary>
    string Interface { get; }

    /// <summary>Maps every run (guest frame → machine frame).</summary>
    void Map(IReadOnlyList<FrameRun> runs);

    /// <summary>Removes everything this mapper mapped, newest first; safe to call twice.</summary>
    void Unmap();
}
