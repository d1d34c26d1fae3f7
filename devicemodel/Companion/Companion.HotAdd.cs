using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Dsm;
using XenVnvdimm.DeviceModel.Layout;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Tables;
using XenVnvdimm.DeviceModel.Xen;

namespace XenVnvdimm.DeviceModel.Companion;

// The hot-add transaction, the same on every platform: place (one placement function with start-up),
// resolve and lock, open labels, record, map, then serve and announce. Everything that can fail comes
// before the mapping and is released when the add fails: a failed add leaves nothing mapped, nothing
// locked, the FIT unchanged and the companion serving. Every failure becomes an answer.
internal sealed partial class Companion
{
    /// <inheritdoc/>
    public async Task<PlannedDevice> AddAsync(VnvdimmDeviceSpec spec, CancellationToken cancel)
    {
        await _hotAddGate.WaitAsync(cancel);
        try
        {
            var layout = _layout ?? throw new UserErrorException("the companion is not serving yet");
            GuestLayout next;
            byte[] nextFit;
            try
            {
                next = LayoutPlanner.PlanHotAdd(layout, spec, labels: _options.Labels);
                _backend.Check(next);
                nextFit = GuestTables.BuildNfit(next).ToFitBuffer();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw Refusal(spec, e);
            }
            var d = next.Devices[^1];
            if (!_fit!.IsSuperset(nextFit))
                throw new UserErrorException($"{spec.Name}: the new FIT would drop entries of the current one");

            var holds = new Stack<IDisposable>();
            IReadOnlyList<FrameRun> runs;
            Labels.ILabelStore? labels;
            try
            {
                runs = _backend.MapsFrames ? BackingStages.Resolve(d, _options, holds) : [];
                labels = BackingStages.OpenLabels(d, holds);
                // Recorded before the first frame is mapped: a crash mid-add is then known, not guessed.
                RecordHotAdd(d, runs, RecordedDevice.Mapping);
                try
                {
                    await _backend.MapAsync(d, runs, cancel);
                }
                catch
                {
                    RecordHotAdd(d, runs, state: null); // MapAsync is all-or-nothing: nothing of it stays
                    throw;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                while (holds.Count > 0)
                    holds.Pop().Dispose();
                throw Refusal(spec, e);
            }

            // Mapped. Nothing below can fail in a way that leaves the guest half-added.
            foreach (var h in holds.Reverse())
                _holds.Push(h);
            _runsBySlot[d.Slot] = runs;
            _dsm!.AddDevice(new DsmDevice(d.Handle, labels));
            _fit.Replace(nextFit);
            _layout = next;
            RecordHotAdd(d, runs, RecordedDevice.Mapped);
            _backend.NotifyFitChanged(layout.EventIrq);
            _logger.LogInformation("{Who}: hot-added slot {Slot}: {Backend} at 0x{Gpa:x}, {Size} bytes", Who, d.Slot, d.Backend, d.Gpa, d.Size);
            return d;
        }
        finally
        {
            _hotAddGate.Release();
        }
    }

    /// <summary>Any failure of an add as the one-line answer the requester gets.</summary>
    private static UserErrorException Refusal(VnvdimmDeviceSpec spec, Exception e) => e switch
    {
        UserErrorException u => u,
        XenException x => new UserErrorException($"{spec.Name}: Xen refused the mapping: {x.Message}", x),
        IOException or UnauthorizedAccessException => new UserErrorException($"{spec.Name}: {e.Message}", e),
        _ => new UserErrorException($"{spec.Name}: internal error ({e.GetType().Name}): {e.Message}", e),
    };

    /// <summary>Records a hot-added device in <paramref name="state"/>, or drops it (null) after a failed add.</summary>
    private void RecordHotAdd(PlannedDevice d, IEnumerable<FrameRun> runs, string? state)
    {
        if (_state?.Current is not { } current)
            return;
        var others = current.Devices.Where(x => x.Device.Slot != d.Slot);
        var devices = state is null ? others : others.Append(RecordedDevice.Of(d, RecordedDevice.FromHotAdd, state, runs));
        try
        {
            _state.Record(current with { Devices = [.. devices.OrderBy(x => x.Device.Slot)] });
        }
        catch (IOException e) when (state == RecordedDevice.Mapped)
        {
            _logger.LogError("slot {Slot}: hot-added, but the state file could not record it: {Error}", d.Slot, e.Message);
        }
    }
}
