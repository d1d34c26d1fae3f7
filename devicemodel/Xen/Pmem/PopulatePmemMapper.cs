using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Xen.Pmem;

/// <summary>
/// Primary path: the vNVDIMM series' XENMEM_populate_pmem_map, one hypercall per contiguous run (the
/// hypervisor preempts itself with continuations), frames mapped cacheable. The op number is
/// configuration; a number upstream already gave to another memory op is refused before any call, and
/// -ENOSYS on the first call means the hypervisor does not have the series. Teardown removes the frames
/// with XENMEM_decrease_reservation in 2 MiB extents where aligned.
/// </summary>
internal sealed class PopulatePmemMapper : IPmemMapper
{
    /// <summary>Most frames per call: nr_mfns is 32-bit; a multiple of 1 GiB keeps chunks superpage aligned.</summary>
    public const ulong MaxFramesPerCall = 0xFFFC0000;

    /// <summary>Largest extent order a control domain may use in decrease_reservation.</summary>
    public const int MaxRemoveOrder = 9;

    private readonly MemoryOps _memory;
    private readonly ushort _domid;
    private readonly uint _op;
    private readonly uint _type;
    private readonly ILogger _log;
    private readonly List<FrameRun> _mapped = [];
    private bool _checked;

    /// <summary>Populates <paramref name="domid"/> with memory_op number <paramref name="op"/> and frame type <paramref name="type"/>.</summary>
    public PopulatePmemMapper(MemoryOps memory, ushort domid, uint op, uint type, ILogger log)
    {
        _memory = memory;
        _domid = domid;
        _op = op;
        _type = type;
        _log = log;
    }

    /// <inheritdoc/>
    public string Interface => "XENMEM_populate_pmem_map";

    /// <inheritdoc/>
    public void Map(IReadOnlyList<FrameRun> runs)
    {
        var list = ScatterList.Coalesce(runs);
        if (!_checked)
        {
            CheckOpNumber();
            _checked = true;
        }
        var mapped = new List<FrameRun>();
        FrameRun? current = null;
        try
        {
            foreach (var run in list)
            {
                for (ulong off = 0; off < run.Count; off += MaxFramesPerCall)
                {
                    var chunk = new FrameRun(run.Gfn + off, run.Mfn + off, Math.Min(MaxFramesPerCall, run.Count - off));
                    current = chunk;
                    Populate(chunk, firstEver: _mapped.Count == 0 && mapped.Count == 0);
                    mapped.Add(chunk);
                    current = null;
                }
            }
        }
        catch (PmemInterfaceUnavailableException)
        {
            throw; // nothing was populated
        }
        catch
        {
            // A failed call may have populated a prefix of its chunk (Xen does the frames in order).
            if (current is FrameRun partial)
                RemovePrefix(partial);
            Remove(mapped);
            throw;
        }
        _mapped.AddRange(mapped);
    }

    /// <inheritdoc/>
    public void Adopt(string interfaceName, IReadOnlyList<FrameRun> runs)
    {
        if (interfaceName != Interface)
            throw new InvalidOperationException($"runs mapped with {interfaceName} cannot be removed with {Interface}");
        _mapped.AddRange(ScatterList.Coalesce(runs));
        _checked = true; // the previous companion's calls proved the op number
    }

    /// <inheritdoc/>
    public void Unmap()
    {
        var mapped = _mapped.ToList();
        _mapped.Clear();
        long first = Remove(mapped);
        if (first < 0)
            throw new XenException($"teardown of dom{_domid}'s pmem frames", (int)-first);
    }

    private void Populate(FrameRun chunk, bool firstEver)
    {
        ulong done = 0;
        while (done < chunk.Count)
        {
            uint nr = (uint)(chunk.Count - done);
            long rc = _memory.PopulatePmemMap(_op, _domid, chunk.Mfn + done, chunk.Gfn + done, nr, _type);
            if (rc == 0)
                return;
            if (rc > 0 && (ulong)rc < nr)
            {
                done += (ulong)rc;
                continue;
            }
            if (rc == -XenConstants.XEN_ENOSYS && firstEver && done == 0)
                throw new PmemInterfaceUnavailableException($"memory_op {_op} (XENMEM_populate_pmem_map) is not implemented by this hypervisor");
            throw new XenException($"populate_pmem_map dom{_domid} gfn 0x{chunk.Gfn + done:x} mfn 0x{chunk.Mfn + done:x} +0x{nr:x}",
                rc > 0 ? XenConstants.XEN_EINVAL : (int)-rc);
        }
    }

    // Upstream memory_op numbers and the release that gave them out; ops below 26 are older than 4.5.
    private void CheckOpNumber()
    {
        var (major, minor) = _memory.Version();
        int version = (major << 16) | minor;
        (uint Op, int Since, string Name)[] upstream =
        [
            (26, 0x40005, "XENMEM_get_vnumainfo"),
            (27, 0x40006, "XENMEM_reserved_device_memory_map"),
            (28, 0x4000B, "XENMEM_acquire_resource"),
        ];
        string? clash = _op < 26 ? "an older XENMEM operation" : null;
        foreach (var u in upstream)
        {
            if (u.Op == _op && version >= u.Since)
                clash = u.Name;
        }
        if (clash is not null)
            throw new PmemInterfaceUnavailableException(
                $"memory_op {_op} is {clash} on Xen {major}.{minor}: not calling it as XENMEM_populate_pmem_map (configure the series' op number)");
        _log.LogDebug("Xen {Major}.{Minor}: trying XENMEM_populate_pmem_map as memory_op {Op}", major, minor, _op);
    }

    // Newest first, in the largest aligned extents; every extent is attempted, the first error reported.
    private long Remove(List<FrameRun> mapped)
    {
        long first = 0;
        var batches = new List<ulong>[MaxRemoveOrder + 1];
        for (int o = 0; o <= MaxRemoveOrder; o++)
            batches[o] = [];
        for (int i = mapped.Count - 1; i >= 0; i--)
        {
            var run = mapped[i];
            ulong gfn = run.Gfn, end = run.GfnEnd;
            while (gfn < end)
            {
                int order = (gfn & (FrameRun.FramesPer2M - 1)) == 0 && end - gfn >= FrameRun.FramesPer2M ? MaxRemoveOrder : 0;
                batches[order].Add(gfn);
                gfn += 1UL << order;
                if (batches[order].Count == MemoryOps.MaxExtentsPerCall)
                    Flush(batches[order], order, ref first);
            }
        }
        for (int o = MaxRemoveOrder; o >= 0; o--)
            Flush(batches[o], o, ref first);
        return first;
    }

    // Removes the populated prefix of a chunk whose call failed: extents strictly in order, stopping
    // at the first one that is not there (decrease_reservation stops there too).
    private void RemovePrefix(FrameRun chunk)
    {
        ulong gfn = chunk.Gfn, end = chunk.GfnEnd;
        var batch = new List<ulong>();
        int batchOrder = -1;
        while (gfn < end)
        {
            int order = (gfn & (FrameRun.FramesPer2M - 1)) == 0 && end - gfn >= FrameRun.FramesPer2M ? MaxRemoveOrder : 0;
            if ((order != batchOrder && batch.Count > 0) || batch.Count == MemoryOps.MaxExtentsPerCall)
            {
                if (!RemoveAll(batch, batchOrder))
                    return;
                batch.Clear();
            }
            batchOrder = order;
            batch.Add(gfn);
            gfn += 1UL << order;
        }
        if (batch.Count > 0)
            RemoveAll(batch, batchOrder);
    }

    private bool RemoveAll(List<ulong> gfns, int order)
    {
        long rc = _memory.DecreaseReservation(_domid, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(gfns), (uint)order);
        return rc == gfns.Count;
    }

    private void Flush(List<ulong> gfns, int order, ref long first)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(gfns);
        while (span.Length > 0)
        {
            long rc = _memory.DecreaseReservation(_domid, span, (uint)order);
            if (rc < 0)
            {
                if (first == 0)
                    first = rc;
                break;
            }
            if ((ulong)rc >= (ulong)span.Length)
                break;
            // Extent rc failed: note it and go on with the rest.
            if (first == 0)
                first = -XenConstants.XEN_EINVAL;
            _log.LogWarning("dom{Domid}: could not remove pmem extent at gfn 0x{Gfn:x} (order {Order})", _domid, span[(int)rc], order);
            span = span[((int)rc + 1)..];
        }
        gfns.Clear();
    }
}
