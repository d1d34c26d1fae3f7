using XenVnvdimm.DeviceModel.Backing;
using XenVnvdimm.DeviceModel.Labels;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Memory;

namespace XenVnvdimm.DeviceModel.Companion;

/// <summary>
/// The per-device stages every start, re-attach and hot-add goes through before anything is mapped:
/// resolve and lock the backing, check it, place its frames at the device's guest address; open its
/// label store. What a stage acquires is pushed on the caller's stack of holds.
/// </summary>
internal static class BackingStages
{
    /// <summary>Resolves and locks a device's backing: its machine frames placed at the device's guest address.</summary>
    public static List<FrameRun> Resolve(PlannedDevice d, CompanionOptions options, Stack<IDisposable> holds)
    {
        BackingResolution r;
        try
        {
            r = BackingResolver.Resolve(d.Backend, new BackingOptions
            {
                AssumeSpaBase = options.AssumeSpaBase,
                Lock = BackingLockMode.Exclusive,
                Alignment = d.Align,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"slot {d.Slot}: backend '{d.Backend}' cannot be used: {e.Message}", e);
        }
        holds.Push(r);
        r.EnsureAccepted();
        if (r.Size < d.Size)
            throw new UserErrorException($"slot {d.Slot}: backend '{d.Backend}' resolves to {r.Size} bytes, fewer than the {d.Size} configured");
        return [.. r.FrameRuns().Select(f => f with { Gfn = f.Gfn + (d.Gpa >> 12) })];
    }

    /// <summary>Opens (creating if needed) a device's label store, or null when it has none.</summary>
    public static ILabelStore? OpenLabels(PlannedDevice d, Stack<IDisposable> holds)
    {
        if (d.LabelFile is null)
            return null;
        try
        {
            var store = FileLabelStore.Open(d.LabelFile, checked((int)d.LabelSize));
            holds.Push(store);
            return store;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OverflowException)
        {
            throw new UserErrorException($"slot {d.Slot}: label file '{d.LabelFile}' cannot be opened: {e.Message}", e);
        }
    }
}
