using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Xen.Pmem;

/// <summary>
/// Upstream fallback: XEN_DOMCTL_iomem_permission for the machine frames, then XEN_DOMCTL_memory_mapping
/// with libxc's loop (positive partial counts continue, -E2BIG halves the batch, a failure undoes the
/// whole range). Xen enters such frames as p2m_mmio_direct, which is uncached for frames Xen does not
/// manage: correct but slow, hence the warning.
/// </summary>
internal sealed class MemoryMappingMapper : IPmemMapper
{
    private readonly Domctl _domctl;
    private readonly ushort _domid;
    private readonly ILogger _log;
    private readonly List<FrameRun> _mapped = [];
    private readonly List<(ulong First, ulong Count)> _granted = [];
    private bool _warned;

    /// <summary>Maps into <paramref name="domid"/> through <paramref name="domctl"/>.</summary>
    public MemoryMappingMapper(Domctl domctl, ushort domid, ILogger log)
    {
        _domctl = domctl;
        _domid = domid;
        _log = log;
    }

    /// <inheritdoc/>
    public string Interface => "XEN_DOMCTL_memory_mapping";

    /// <inheritdoc/>
    public void Map(IReadOnlyList<FrameRun> runs)
    {
        var list = ScatterList.Coalesce(runs);
        if (!_warned)
        {
            _warned = true;
            _log.LogWarning("dom{Domid}: mapping pmem with XEN_DOMCTL_memory_mapping: Xen maps these frames UNCACHED " +
                "(p2m_mmio_direct), so guest pmem will be very slow; a hypervisor with XENMEM_populate_pmem_map maps them cached", _domid);
        }

        var granted = new List<(ulong First, ulong Count)>();
        var mapped = new List<FrameRun>();
        try
        {
            foreach (var range in ScatterList.MachineRanges(list))
            {
                long rc = _domctl.IomemPermission(_domid, range.First, range.Count, allow: true);
                if (rc < 0)
                    throw new XenException($"iomem_permission dom{_domid} mfn 0x{range.First:x}+0x{range.Count:x}", (int)-rc);
                granted.Add(range);
            }
            foreach (var run in list)
            {
                long rc = MappingLoop(run, add: true);
                if (rc < 0)
                    throw new XenException($"memory_mapping dom{_domid} gfn 0x{run.Gfn:x} mfn 0x{run.Mfn:x} +0x{run.Count:x}", (int)-rc);
                mapped.Add(run);
            }
        }
        catch
        {
            Remove(mapped, granted);
            throw;
        }
        _mapped.AddRange(mapped);
        _granted.AddRange(granted);
    }

    /// <inheritdoc/>
    public void Adopt(string interfaceName, IReadOnlyList<FrameRun> runs)
    {
        if (interfaceName != Interface)
            throw new InvalidOperationException($"runs mapped with {interfaceName} cannot be removed with {Interface}");
        var list = ScatterList.Coalesce(runs);
        _warned = true; // the previous companion warned when it mapped them
        _mapped.AddRange(list);
        _granted.AddRange(ScatterList.MachineRanges(list));
    }

    /// <inheritdoc/>
    public void Unmap()
    {
        var mapped = _mapped.ToList();
        var granted = _granted.ToList();
        _mapped.Clear();
        _granted.Clear();
        long first = Remove(mapped, granted);
        if (first < 0)
            throw new XenException($"teardown of dom{_domid}'s pmem mappings", (int)-first);
    }

    // Newest first; every range is attempted, the first error is reported.
    private long Remove(List<FrameRun> mapped, List<(ulong First, ulong Count)> granted)
    {
        long first = 0;
        for (int i = mapped.Count - 1; i >= 0; i--)
        {
            long rc = MappingLoop(mapped[i], add: false);
            if (rc < 0 && first == 0)
                first = rc;
        }
        for (int i = granted.Count - 1; i >= 0; i--)
        {
            long rc = _domctl.IomemPermission(_domid, granted[i].First, granted[i].Count, allow: false);
            if (rc < 0 && first == 0)
                first = rc;
        }
        return first;
    }

    /// <summary>xc_domain_memory_mapping's loop: 0 or a negated errno.</summary>
    private long MappingLoop(FrameRun run, bool add)
    {
        ulong done = 0;
        ulong maxBatch = run.Count;
        long ret = 0;
        do
        {
            ulong nr = Math.Min(run.Count - done, maxBatch);
            long rc = _domctl.MemoryMapping(_domid, run.Gfn + done, run.Mfn + done, nr, add);
            if (rc == -XenConstants.XEN_E2BIG)
            {
                if (maxBatch <= 1)
                    break;
                maxBatch = Halve(maxBatch);
                continue;
            }
            if (rc > 0)
            {
                // A count beyond what was asked is a hypervisor bug; treat it as an error, not progress.
                if ((ulong)rc > nr)
                    rc = -XenConstants.XEN_EINVAL;
                else
                {
                    done += (ulong)rc;
                    continue;
                }
            }
            if (ret == 0)
                ret = rc;
            if (rc != 0 && add)
                break;
            done += nr;
        }
        while (done < run.Count);

        if (ret != 0 && add)
            MappingLoop(run, add: false);
        if (done == 0 && ret == 0)
            ret = -XenConstants.XEN_E2BIG;
        return ret;
    }

    // libxc halves; keeping batches whole 2 MiB multiples keeps every later batch superpage aligned.
    private static ulong Halve(ulong batch)
    {
        batch >>= 1;
        return batch >= FrameRun.FramesPer2M ? batch & ~(FrameRun.FramesPer2M - 1) : batch;
    }
}
