using System.Buffers.Binary;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.DeviceModel.Dsm;

public sealed partial class DsmService
{
    /// <summary>
    /// _FIT chunk read: in {u32 offset}, out {u32 status, FIT bytes from offset, at most
    /// <see cref="DsmLimits.MaxFitChunk"/>}; an empty chunk marks the end. A read at offset 0 starts
    /// a pass and records the FIT generation; a later chunk of a pass whose FIT has since changed
    /// (or of a pass that never began at 0) answers <see cref="P.StatusFitChanged"/> so the guest
    /// restarts and never stitches two FITs together.
    /// </summary>
    private DsmAnswer ReadFit(in MailboxRequest r, Span<byte> output)
    {
        if (r.Handle != 0)
            return DsmAnswer.StatusOnly(output, P.StatusNoSuchDevice);
        if (r.Revision != DsmLimits.Revision || r.Input.Length < 4)
            return DsmAnswer.StatusOnly(output, P.StatusInvalidInput);
        uint offset = BinaryPrimitives.ReadUInt32LittleEndian(r.Input);

        // Generation read on both sides of the FIT: a hot-add in between counts as a change.
        long before = _fit.Generation;
        var fit = _fit.Fit.Span;
        long after = _fit.Generation;
        if (offset == 0)
        {
            if (before != after)
                return DsmAnswer.StatusOnly(output, P.StatusFitChanged);
            _fitGenerationSeen = after;
        }
        else if (_fitGenerationSeen != before || before != after)
        {
            return DsmAnswer.StatusOnly(output, P.StatusFitChanged);
        }

        if (offset > (uint)fit.Length)
            return DsmAnswer.StatusOnly(output, P.StatusInvalidInput);
        int chunk = Math.Min(fit.Length - (int)offset, DsmLimits.MaxFitChunk);
        fit.Slice((int)offset, chunk).CopyTo(output[4..]);
        BinaryPrimitives.WriteUInt32LittleEndian(output, P.StatusSuccess);
        return new DsmAnswer(P.StatusSuccess, 4 + chunk);
    }
}
