namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>Operations the simulator can be told to fail.</summary>
internal enum SimOp
{
    /// <summary>XEN_DOMCTL_iomem_permission.</summary>
    IomemPermission,

    /// <summary>XEN_DOMCTL_memory_mapping (adding).</summary>
    MemoryMapping,

    /// <summary>XEN_DOMCTL_memory_mapping (removing).</summary>
    MemoryUnmapping,

    /// <summary>XENMEM_populate_pmem_map.</summary>
    PopulatePmem,

    /// <summary>XENMEM_decrease_reservation.</summary>
    DecreaseReservation,

    /// <summary>Any DM op.</summary>
    DmOp,
}

/// <summary>
/// A failure to inject: the <paramref name="AfterCalls"/>-th call (0-based) of <paramref name="Op"/> first
/// does <paramref name="PartialFrames"/> frames (extents for decrease_reservation) of real work, then
/// fails with <paramref name="Errno"/>. ERESTART (85) means "preempted": Xen turns that
/// into a continuation, so the caller never sees it and the call completes.
/// </summary>
internal sealed record SimFault(SimOp Op, int AfterCalls, int Errno, ulong PartialFrames = 0, int Times = 1);

/// <summary>Pending failures and per-operation call counters (thread-safe).</summary>
internal sealed class SimFaults
{
    private readonly Lock _lock = new();
    private readonly List<(SimFault Fault, int Left)> _faults = [];
    private readonly Dictionary<SimOp, int> _calls = [];

    /// <summary>Arms a failure.</summary>
    public void Add(SimFault fault)
    {
        lock (_lock)
            _faults.Add((fault, fault.Times));
    }

    /// <summary>Counts a call of <paramref name="op"/> and returns the failure it must suffer, if any.</summary>
    public SimFault? OnCall(SimOp op)
    {
        lock (_lock)
        {
            int n = _calls.GetValueOrDefault(op);
            _calls[op] = n + 1;
            for (int i = 0; i < _faults.Count; i++)
            {
                var (f, left) = _faults[i];
                if (f.Op == op && n >= f.AfterCalls && left > 0)
                {
                    _faults[i] = (f, left - 1);
                    return f;
                }
            }
            return null;
        }
    }
}
