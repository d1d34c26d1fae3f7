using XenVnvdimm.Acpi.Nfit;
using XenVnvdimm.DeviceModel.Dsm;

namespace XenVnvdimm.DeviceModel.Platforms.Qemu;

/// <summary>The FIT the guest reads through _FIT; replaced (with a new generation) on hot-add.</summary>
internal sealed class MutableFitSource(byte[] fit) : IFitSource
{
    // One immutable snapshot swapped atomically, so FIT and generation always agree.
    private Snapshot _current = new(fit, 0);

    public ReadOnlyMemory<byte> Fit => Volatile.Read(ref _current).Fit;

    public long Generation => Volatile.Read(ref _current).Generation;

    /// <summary>True when <paramref name="fit"/> holds every structure of the current FIT (Linux cannot remove entries).</summary>
    public bool IsSuperset(byte[] fit)
    {
        var next = NfitParser.ParseFit(fit).Structures;
        return NfitParser.ParseFit(Volatile.Read(ref _current).Fit).Structures.All(next.Contains);
    }

    /// <summary>Publishes a new FIT that must be a superset of the old one.</summary>
    public void Replace(byte[] fit)
    {
        if (!IsSuperset(fit))
            throw new InvalidOperationException("a new FIT must hold every entry of the old one");
        var old = Volatile.Read(ref _current);
        Volatile.Write(ref _current, new Snapshot(fit, old.Generation + 1));
    }

    private sealed record Snapshot(byte[] Fit, long Generation);
}
