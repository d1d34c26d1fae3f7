using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Dsm;
using XenVnvdimm.DeviceModel.Labels;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Tables;
using XenVnvdimm.DeviceModel.Xen;

namespace XenVnvdimm.DeviceModel.Platforms.Xen;

internal sealed partial class XenPlatform
{
    /// <summary>
    /// Hot-add: resolve and lock the backing, open its label store, map its frames, serve its DSM
    /// calls, grow the FIT (a strict superset), then pulse the GED interrupt so the guest
    /// re-evaluates _FIT. Everything that can fail happens before the mapping and is released when
    /// the add fails, so a failed add leaves nothing mapped, nothing locked and the FIT unchanged.
    /// </summary>
    public async Task<PlannedDevice> AddAsync(VnvdimmDeviceSpec spec, CancellationToken cancel)
    {
        await _hotAddGate.WaitAsync(cancel);
        try
        {
            var layout = _layout ?? throw new UserErrorException("the companion is not serving yet");
            if (_options.Restrict)
                throw new UserErrorException($"{spec.Name}: this companion runs with --restrict: its privcmd is restricted to the domain and can no longer map memory; hot-add needs a companion started without --restrict");
            var next = LayoutPlanner.PlanHotAdd(layout, spec);
            var d = next.Devices[^1];
            byte[] nextFit = GuestTables.BuildNfit(next).ToFitBuffer();
            if (!_fit!.IsSuperset(nextFit))
                throw new UserErrorException($"{spec.Name}: the new FIT would drop entries of the current one");

            var r = Resolve(d);
            ILabelStore? labels = null;
            List<Memory.FrameRun> runs;
            try
            {
                _guard?.EnsureNotHeld(r, d.Slot, d.Backend);
                Accept(r, d);
                runs = GuestRuns(r, d);
                _guard!.Admit(r, d.Slot, d.Backend, runs);
                labels = OpenLabels(d);
                // Recorded before the first frame is mapped: a crash mid-add is then known, not guessed.
                RecordHotAdd(d, runs, RecordedDevice.Mapping);
                try
                {
                    _session!.Pmem.Map(runs);
                }
                catch
                {
                    RecordHotAdd(d, runs, state: null); // Map is all-or-nothing: nothing of it stays
                    throw;
                }
            }
            catch (Exception e)
            {
                (labels as IDisposable)?.Dispose();
                _guard?.Rollback(d.Slot);
                r.Dispose();
                if (e is XenException xe)
                    throw new UserErrorException($"{spec.Name}: Xen refused the mapping: {xe.Message}", xe);
                if (e is IOException io)
                    throw new UserErrorException($"{spec.Name}: {io.Message}", io);
                throw;
            }

            // Mapped. Nothing below can fail in a way that leaves the guest half-added.
            _hotAddHolds.Add(r);
            if (labels is IDisposable l)
                _hotAddHolds.Add(l);
            _dsm!.AddDevice(new DsmDevice(d.Handle, labels));
            _fit.Replace(nextFit);
            _layout = next;
            try
            {
                RecordHotAdd(d, runs, RecordedDevice.Mapped);
            }
            catch (IOException e)
            {
                _logger.LogError("slot {Slot}: hot-added, but the state file could not record it: {Error}", d.Slot, e.Message);
            }
            if (layout.EventIrq is uint irq)
            {
                try
                {
                    _session!.IsaIrq((byte)irq).Pulse(TimeSpan.FromMilliseconds(1));
                }
                catch (XenException e)
                {
                    // The FIT has grown; a guest that misses the event sees the device at its next _FIT read.
                    _logger.LogWarning("slot {Slot}: hot-add event on IRQ {Irq} failed: {Error}", d.Slot, irq, e.Message);
                }
            }
            _logger.LogInformation("hot-added slot {Slot}: {Backend} at 0x{Gpa:x}", d.Slot, d.Backend, d.Gpa);
            return d;
        }
        finally
        {
            _hotAddGate.Release();
        }
    }
}
