using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Backing;
using XenVnvdimm.DeviceModel.Labels;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.DeviceModel.Xen.Sim;

namespace XenVnvdimm.DeviceModel.Platforms.Xen;

// The stages shared by start-up, re-attach and hot-add.
internal sealed partial class XenPlatform
{
    /// <summary>Resolves and locks a device's backing; the caller owns the result (and its lock).</summary>
    private BackingResolution Resolve(PlannedDevice d) =>
        BackingResolver.Resolve(d.Backend, new BackingOptions
        {
            AssumeSpaBase = _options.AssumeSpaBase,
            Lock = BackingLockMode.Exclusive,
            Alignment = d.Align,
        });

    private static void Accept(BackingResolution r, PlannedDevice d)
    {
        r.EnsureAccepted();
        if (r.Size < d.Size)
            throw new UserErrorException($"slot {d.Slot}: backend '{d.Backend}' resolves to {r.Size} bytes, fewer than the {d.Size} configured");
    }

    /// <summary>The backing's frames placed at the device's guest address.</summary>
    private static List<FrameRun> GuestRuns(BackingResolution r, PlannedDevice d) =>
        [.. r.FrameRuns().Select(f => f with { Gfn = f.Gfn + (d.Gpa >> 12) })];

    /// <summary>Opens (creating if needed) a device's label store; the caller owns it.</summary>
    private static ILabelStore? OpenLabels(PlannedDevice d)
    {
        if (d.LabelFile is null)
            return null;
        try
        {
            return FileLabelStore.Open(d.LabelFile, checked((int)d.LabelSize));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"slot {d.Slot}: label file '{d.LabelFile}' cannot be opened: {e.Message}", e);
        }
    }

    /// <summary>A fresh start: populate and map the mailbox page, then map every device's frames.</summary>
    private void MapFresh(XenGuestSession session, ulong mailboxGfn, List<FrameRun> runs)
    {
        // Mailbox: a fresh RAM page the guest's AML reaches at dsm_mailbox, given back at teardown.
        session.PopulateRamPage(mailboxGfn);
        _undo.Push(new StageUndo(() => session.RemoveRamPage(mailboxGfn)));
        _mailbox = session.Foreign.MapPage(mailboxGfn);
        _undo.Push(_mailbox);

        // Guest pmem frames: all-or-nothing; session disposal removes them.
        var sw = System.Diagnostics.Stopwatch.StartNew();
        long ioctls = session.Privcmd.IoctlCount;
        session.Pmem.Map(runs);
        _logger.LogInformation("mapped {Pages} pages in {Runs} runs with {Interface}: {Ioctls} ioctls, {Ms:0.0} ms",
            runs.Sum(r => (long)r.Count), runs.Count, session.Pmem.Interface, session.Privcmd.IoctlCount - ioctls, sw.Elapsed.TotalMilliseconds);
    }

    /// <summary>Records everything now live in the domain, so a successor can re-attach to it.</summary>
    private void RecordServing(GuestLayout layout, Dictionary<int, List<FrameRun>> runsBySlot, ulong mailboxGfn, ushort? server)
    {
        var devices = layout.Devices.Select(d => RecordedDevice.Of(d,
            _planned!.Devices.Any(p => p.Slot == d.Slot) ? RecordedDevice.FromConfig : RecordedDevice.FromHotAdd,
            RecordedDevice.Mapped, runsBySlot[d.Slot]));
        _state!.Record(new CompanionRecord(Environment.ProcessId, PlatformName, _started, _options.Domid, CompanionRecord.Serving,
            RecordedLayout.Of(layout), mailboxGfn, server, _session!.Pmem.Interface, [.. devices]));
    }

    /// <summary>Records a hot-added device in <paramref name="state"/>, or drops it (null) after a failed add.</summary>
    private void RecordHotAdd(PlannedDevice d, IEnumerable<FrameRun> runs, string? state)
    {
        var current = _state!.Current!;
        var others = current.Devices.Where(x => x.Device.Slot != d.Slot);
        var devices = state is null ? others : others.Append(RecordedDevice.Of(d, RecordedDevice.FromHotAdd, state, runs));
        _state.Record(current with { Devices = [.. devices.OrderBy(x => x.Device.Slot)] });
    }

    private XenDevices OpenDevices(IReadOnlyList<FrameRun> runs, bool reattaching)
    {
        if (!_options.Simulated)
            return XenDevices.OpenHost();
        // The simulated host knows as pmem exactly the SPA range the backings were assumed at.
        ulong first = runs.Select(f => f.Mfn).DefaultIfEmpty(0UL).Min();
        ulong end = runs.Select(f => f.Mfn + f.Count).DefaultIfEmpty(0UL).Max();
        ulong spaBase = (_options.AssumeSpaBase ?? 0) >> 12;
        // In sim mode the hypervisor lives in this process, so a killed companion would take its
        // domain with it, where a real Xen outlives its device models. To stay honest the simulator
        // persists its domains next to the state file and is restored from there: a companion killed
        // with SIGKILL leaves its simulated domain (p2m, mailbox page, ioreq server) for the next one
        // to re-attach to, and what a clean teardown left can be read back from the same file.
        string dir = Path.Combine(CompanionStateFile.Directory, $"{_options.Domid}.sim");
        SimHypervisor sim;
        try
        {
            sim = new SimHypervisor(new SimHypervisorOptions
            {
                PmemRegions = [(Math.Min(first, spaBase), Math.Max(end, spaBase + (1UL << 26)) - Math.Min(first, spaBase))],
                PersistDirectory = dir,
            });
        }
        catch (InvalidDataException e)
        {
            throw new UserErrorException($"the simulated hypervisor's state cannot be restored: {e.Message}", e);
        }
        _undo.Push(sim);
        // A re-attach needs the domain the dead companion served (without it the first DM op finds no
        // such domain); a fresh start creates it unless it lives on from an earlier companion.
        var domain = sim.Domain(_options.Domid) ?? (reattaching ? null : sim.CreateDomain(_options.Domid));
        // Runs after the session's teardown, before the simulator goes: what did teardown leave?
        _undo.Push(new StageUndo(() =>
        {
            if (domain is not null)
                _logger.LogInformation("sim teardown: dom{Domid} p2m holds {Frames} mapped frames in {Ranges} ranges, {Servers} ioreq servers; hypercalls {Counters}",
                    _options.Domid, domain.P2m.MappedFrames, domain.P2m.RangeCount, domain.IoreqServers.Count,
                    string.Join(", ", sim.Counters.Snapshot().OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}")));
            // In sim there is no xl to destroy the domain: the release xenstored announced stands for it.
            if (_released)
                sim.DestroyDomain(_options.Domid);
        }));
        Simulator = sim;
        return sim.OpenDevices();
    }
}
