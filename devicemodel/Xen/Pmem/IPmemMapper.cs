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

    /// <summary>
    /// Takes over runs a previous companion mapped with <paramref name="interfaceName"/> (re-attach after
    /// a crash): no hypercall is made, and <see cref="Unmap"/> removes them like this mapper's own.
    /// </summary>
    /// <exception cref="InvalidOperationException">This mapper does not use that interface.</exception>
    void Adopt(string interfaceName, IReadOnlyList<FrameRun> runs);
}
