using XenVnvdimm.DeviceModel.Backing.Sysfs;

namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>
/// How offsets on a backing's device become system physical addresses, and which SPA window the
/// backing may use: the namespace's data (after dataoff, before end_trunc), or for an assumed base
/// the device itself.
/// </summary>
/// <param name="DeviceSpaBase">SPA of byte 0 of the whole disk or dax device.</param>
/// <param name="WindowStart">First SPA a run may use.</param>
/// <param name="WindowEnd">SPA one past the last usable byte.</param>
/// <param name="MetadataStart">First SPA of the namespace's metadata (equal to <paramref name="WindowStart"/> when there is none).</param>
public sealed record SpaMap(ulong DeviceSpaBase, ulong WindowStart, ulong WindowEnd, ulong MetadataStart)
{
    /// <summary>The map of a pmem namespace whose data begins at device byte 0.</summary>
    public static SpaMap ForNamespace(NdNamespace ns)
        => new(ns.DataStart, ns.DataStart, ns.DataStart + ns.DataSize, ns.Start);

    /// <summary>The map of a non-pmem device of <paramref name="deviceSize"/> bytes placed at an assumed SPA.</summary>
    public static SpaMap Assumed(ulong spaBase, ulong deviceSize)
        => new(spaBase, spaBase, spaBase + deviceSize, spaBase);

    /// <summary>True when <paramref name="run"/> lies inside the window.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool Fits(in ResolvedRun run)
    {
        ulong spa = run.Spa(DeviceSpaBase);
        ulong end = spa + run.Length;
        return spa >= WindowStart && end <= WindowEnd && end >= spa;
    }

    /// <summary>The refusal for a run that leaves the window, or null when it fits.</summary>
    public Refusal? Check(in ResolvedRun run)
    {
        if (Fits(run))
            return null;
        ulong spa = run.Spa(DeviceSpaBase);
        ulong end = spa + run.Length;
        ulong fileEnd = run.FileOffset + run.Length;
        if (spa < WindowStart && end > MetadataStart)
            return new Refusal(RefusalReason.Metadata, run.FileOffset, fileEnd,
                $"SPA [0x{spa:x}, 0x{end:x}) overlaps namespace metadata [0x{MetadataStart:x}, 0x{WindowStart:x}) below dataoff");
        return new Refusal(RefusalReason.OutsideNamespace, run.FileOffset, fileEnd,
            $"SPA [0x{spa:x}, 0x{end:x}) is outside the usable window [0x{WindowStart:x}, 0x{WindowEnd:x})");
    }
}
