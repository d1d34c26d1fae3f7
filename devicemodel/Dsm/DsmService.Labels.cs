using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Labels;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.DeviceModel.Dsm;

public sealed partial class DsmService
{
    // Label payloads (Intel functions 4/5/6 and _LSI/_LSR/_LSW alike):
    //   info:  out {u32 status, u32 size, u32 max_xfer} — always 12 bytes, so the AML (which wants
    //          exactly 12) passes a failure status through instead of replacing it;
    //   read:  in {u32 offset, u32 length}        out {u32 status, data[length]};
    //   write: in {u32 offset, u32 length, data}  out {u32 status}.
    private const int RangeHeader = 8;
    private const int InfoLength = 12;

    private DsmAnswer LabelInfo(uint handle, uint revision, Span<byte> output)
    {
        var (labels, status) = LabelsOf(handle, revision);
        output[..InfoLength].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(output, status);
        if (labels is not null)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(output[4..], (uint)labels.Size);
            BinaryPrimitives.WriteUInt32LittleEndian(output[8..], (uint)MaxTransferOf(labels));
        }
        return new DsmAnswer(status, InfoLength);
    }

    private DsmAnswer LabelRead(uint handle, uint revision, ReadOnlySpan<byte> input, Span<byte> output)
    {
        var (labels, status) = LabelsOf(handle, revision);
        if (labels is null)
            return DsmAnswer.StatusOnly(output, status);
        if (!TryRange(labels, input, out int offset, out int length))
            return DsmAnswer.StatusOnly(output, P.StatusInvalidInput);
        try
        {
            labels.Read(offset, output.Slice(4, length));
        }
        catch (Exception e)
        {
            _logger.LogError(e, "label read of handle 0x{Handle:x} at {Offset}+{Length} failed", handle, offset, length);
            return DsmAnswer.StatusOnly(output, DsmLimits.StatusHardwareError);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(output, P.StatusSuccess);
        return new DsmAnswer(P.StatusSuccess, 4 + length);
    }

    private DsmAnswer LabelWrite(uint handle, uint revision, ReadOnlySpan<byte> input, Span<byte> output)
    {
        var (labels, status) = LabelsOf(handle, revision);
        if (labels is null)
            return DsmAnswer.StatusOnly(output, status);
        if (!TryRange(labels, input, out int offset, out int length) || input.Length - RangeHeader < length)
            return DsmAnswer.StatusOnly(output, P.StatusInvalidInput);
        try
        {
            // Success is reported only after the store made the write durable.
            labels.Write(offset, input.Slice(RangeHeader, length));
        }
        catch (Exception e)
        {
            _logger.LogError(e, "label write of handle 0x{Handle:x} at {Offset}+{Length} failed", handle, offset, length);
            return DsmAnswer.StatusOnly(output, DsmLimits.StatusHardwareError);
        }
        return DsmAnswer.StatusOnly(output, P.StatusSuccess);
    }

    /// <summary>The device's label store, or null with the status that refuses the call.</summary>
    private (ILabelStore? Labels, uint Status) LabelsOf(uint handle, uint revision)
    {
        var device = handle == 0 ? null : Device(handle);
        if (device is null)
            return (null, P.StatusNoSuchDevice);
        if (device.Labels is null)
            return (null, P.StatusNotSupported);
        if (revision != DsmLimits.Revision)
            return (null, P.StatusInvalidInput);
        return (device.Labels, P.StatusSuccess);
    }

    /// <summary>Parses {u32 offset, u32 length} and checks it against the area and max transfer.</summary>
    private static bool TryRange(ILabelStore labels, ReadOnlySpan<byte> input, out int offset, out int length)
    {
        offset = length = 0;
        if (input.Length < RangeHeader)
            return false;
        uint off = BinaryPrimitives.ReadUInt32LittleEndian(input);
        uint len = BinaryPrimitives.ReadUInt32LittleEndian(input[4..]);
        // 64-bit signed sum: offset + length cannot wrap, and a store reporting a bogus size refuses all.
        if (len > (uint)MaxTransferOf(labels) || (long)off + len > labels.Size)
            return false;
        offset = (int)off;
        length = (int)len;
        return true;
    }

    private static int MaxTransferOf(ILabelStore labels)
        => labels.MaxTransfer is int own and > 0 ? Math.Min(own, DsmLimits.MaxTransfer) : DsmLimits.MaxTransfer;
}
