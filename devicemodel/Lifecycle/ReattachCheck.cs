using System.Globalization;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Memory;

namespace XenVnvdimm.DeviceModel.Lifecycle;

/// <summary>
/// Decides whether a companion may take over what a dead one left in the domain: the same platform,
/// a record written once serving (not mid start-up, not mid hot-add), the config describing the same
/// guest, and each backing still resolving to the frames that were mapped. Every refusal names what
/// differs, and nothing has been touched when it is made.
/// </summary>
public static class ReattachCheck
{
    /// <summary>
    /// The layout to serve: the config's devices, which must match the recorded ones, plus the devices
    /// the dead companion hot-added (they are in the guest's FIT, which can only grow).
    /// </summary>
    /// <exception cref="UserErrorException">Re-attaching is not possible; the message says why.</exception>
    public static GuestLayout FullLayout(CompanionRecord previous, string platform, GuestLayout planned, string stateFile)
    {
        string who = $"cannot re-attach to domain {previous.Domid}: the previous companion ({previous.Summary}) died";
        string otherwise = $"destroy the domain, or remove {stateFile} once the domain is gone";
        if (previous.Platform != platform)
            throw new UserErrorException($"{who} while serving with --platform {previous.Platform}, not {platform}; {otherwise}");
        if (previous.Phase is not (CompanionRecord.Serving or CompanionRecord.Stopped) || previous.Layout is null || previous.MailboxGfn is null || previous.PmemInterface is null)
            throw new UserErrorException($"{who} while starting, before it had recorded everything it mapped; {otherwise}");
        if (previous.Devices.FirstOrDefault(d => d.State != RecordedDevice.Mapped) is { } pending)
            throw new UserErrorException($"{who} during the hot-add of slot {pending.Device.Slot} (backend '{pending.Device.Backend}'), whose frames may be partly mapped; {otherwise}");

        var diffs = new List<string>();
        var was = previous.Layout;
        var now = RecordedLayout.Of(planned);
        Compare(diffs, "vnvdimm_slots", now.Slots, was.Slots);
        Compare(diffs, "vnvdimm_base", Hex(now.WindowBase), Hex(was.WindowBase));
        Compare(diffs, "dsm_mailbox", Hex(now.MailboxGpa), Hex(was.MailboxGpa));
        Compare(diffs, "dsm_port", Hex(now.DoorbellPort), Hex(was.DoorbellPort));
        Compare(diffs, "event_irq", now.EventIrq?.ToString(CultureInfo.InvariantCulture) ?? "none", was.EventIrq?.ToString(CultureInfo.InvariantCulture) ?? "none");
        if (previous.MailboxGfn != planned.MailboxGpa >> 12)
            diffs.Add($"the mailbox page was populated at gfn {Hex(previous.MailboxGfn.Value)}, the config puts it at gfn {Hex(planned.MailboxGpa >> 12)}");

        var recorded = previous.Devices.ToDictionary(d => d.Device.Slot);
        foreach (var d in planned.Devices)
        {
            if (!recorded.TryGetValue(d.Slot, out var r))
            {
                diffs.Add($"slot {d.Slot} (backend '{d.Backend}') is in the config but was not mapped");
                continue;
            }
            CompareDevice(diffs, d, r.Device);
        }
        foreach (var r in previous.Devices.Where(r => r.Origin == RecordedDevice.FromConfig && planned.Devices.All(d => d.Slot != r.Device.Slot)))
            diffs.Add($"slot {r.Device.Slot} (backend '{r.Device.Backend}') was mapped from the config but is not in it now");
        if (diffs.Count > 0)
            throw new UserErrorException($"{who}, and the config differs from what it mapped: {string.Join("; ", diffs)}; fix the config, or {otherwise}");

        var hotAdded = previous.Devices.Where(r => planned.Devices.All(d => d.Slot != r.Device.Slot)).Select(r => r.Device);
        return planned with { Devices = [.. planned.Devices.Concat(hotAdded).OrderBy(d => d.Slot)] };
    }

    /// <summary>
    /// Refuses when a backing now resolves to other frames than the dead companion mapped (a file
    /// whose blocks moved, another device under the path): the guest would see other data.
    /// </summary>
    /// <exception cref="UserErrorException">Names the first device whose frames differ.</exception>
    public static void EnsureSameFrames(CompanionRecord previous, PlannedDevice device, IReadOnlyList<FrameRun> runs, string stateFile)
    {
        var mapped = previous.Devices.First(r => r.Device.Slot == device.Slot).FrameRuns();
        if (mapped.SequenceEqual(runs))
            return;
        int i = 0;
        while (i < mapped.Count && i < runs.Count && mapped[i] == runs[i])
            i++;
        string at = i < mapped.Count ? $"guest frame {Hex(mapped[i].Gfn)}" : $"guest frame {Hex(runs[i].Gfn)}";
        throw new UserErrorException(
            $"cannot re-attach to domain {previous.Domid}: slot {device.Slot}'s backend '{device.Backend}' now resolves to other machine frames " +
            $"than the previous companion ({previous.Summary}) mapped (first difference at {at}); destroy the domain, or remove {stateFile} once it is gone");
    }

    private static void CompareDevice(List<string> diffs, PlannedDevice now, PlannedDevice was)
    {
        string s = $"slot {now.Slot}";
        Compare(diffs, $"{s} backend", Path.GetFullPath(now.Backend), Path.GetFullPath(was.Backend));
        Compare(diffs, $"{s} guest address", Hex(now.Gpa), Hex(was.Gpa));
        Compare(diffs, $"{s} size", now.Size, was.Size);
        Compare(diffs, $"{s} serial", Hex(now.Serial), Hex(was.Serial));
        Compare(diffs, $"{s} label_size", now.LabelSize, was.LabelSize);
        Compare(diffs, $"{s} label", now.LabelFile ?? "none", was.LabelFile ?? "none");
        Compare(diffs, $"{s} node", now.Node, was.Node);
        Compare(diffs, $"{s} unarmed", now.Unarmed ? 1 : 0, was.Unarmed ? 1 : 0);
        Compare(diffs, $"{s} align", now.Align, was.Align);
        Compare(diffs, $"{s} handle", now.Handle, was.Handle);
    }

    private static void Compare<T>(List<string> diffs, string what, T now, T was)
    {
        if (!EqualityComparer<T>.Default.Equals(now, was))
            diffs.Add(string.Create(CultureInfo.InvariantCulture, $"{what} is {now} in the config but was {was}"));
    }

    private static string Hex(ulong v) => $"0x{v:x}";
}
