using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Memory;

namespace XenVnvdimm.DeviceModel.Lifecycle;

/// <summary>One device as mapped: its placement and the frames behind it.</summary>
/// <param name="Origin"><see cref="FromConfig"/> or <see cref="FromHotAdd"/>.</param>
/// <param name="State"><see cref="Mapping"/> while a hot-add is under way, then <see cref="Mapped"/>.</param>
/// <param name="Device">The placement.</param>
/// <param name="Runs">Guest frame → machine frame runs mapped for it.</param>
public sealed record RecordedDevice(string Origin, string State, PlannedDevice Device, IReadOnlyList<RecordedRun> Runs)
{
    /// <summary>Origin of a device of the config.</summary>
    public const string FromConfig = "config";

    /// <summary>Origin of a hot-added device.</summary>
    public const string FromHotAdd = "hot-add";

    /// <summary>State while its frames are being mapped (a crash then leaves them unknown).</summary>
    public const string Mapping = "mapping";

    /// <summary>State once it is in the guest's FIT.</summary>
    public const string Mapped = "mapped";

    /// <summary>Records <paramref name="device"/> with <paramref name="runs"/>.</summary>
    public static RecordedDevice Of(PlannedDevice device, string origin, string state, IEnumerable<FrameRun> runs) =>
        new(origin, state, device, [.. runs.Select(r => new RecordedRun(r.Gfn, r.Mfn, r.Count))]);

    /// <summary>The runs as frame runs.</summary>
    public IReadOnlyList<FrameRun> FrameRuns() => [.. Runs.Select(r => new FrameRun(r.Gfn, r.Mfn, r.Count))];
}

/// <summary>A mapped run: <paramref name="Count"/> frames from guest frame <paramref name="Gfn"/> to machine frame <paramref name="Mfn"/>.</summary>
/// <param name="Gfn">First guest frame.</param>
/// <param name="Mfn">First machine frame.</param>
/// <param name="Count">Frames.</param>
public sealed record RecordedRun(ulong Gfn, ulong Mfn, ulong Count);
