using System.Collections.Concurrent;

namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>Hypervisor-side counters: every hypercall entry by name, continuations, ioctls.</summary>
internal sealed class SimCounters
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    /// <summary>Adds one to <paramref name="name"/>.</summary>
    public void Add(string name) => _counts.AddOrUpdate(name, 1, (_, v) => v + 1);

    /// <summary>The count of <paramref name="name"/> (0 if never counted).</summary>
    public long this[string name] => _counts.GetValueOrDefault(name);

    /// <summary>A copy of all counters.</summary>
    public IReadOnlyDictionary<string, long> Snapshot() => new Dictionary<string, long>(_counts, StringComparer.Ordinal);

    /// <summary>Resets every counter.</summary>
    public void Clear() => _counts.Clear();
}
