using System.Buffers.Binary;

namespace XenVnvdimm.DeviceModel.Dsm;

/// <summary>What a request was answered with: the status (for statistics) and the output length.</summary>
internal readonly record struct DsmAnswer(uint Status, int Length)
{
    /// <summary>Writes a bare u32 status as the whole output.</summary>
    public static DsmAnswer StatusOnly(Span<byte> output, uint status)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(output, status);
        return new DsmAnswer(status, 4);
    }

    /// <summary>Writes a one-byte function-0 bitmap as the whole output (counted as success).</summary>
    public static DsmAnswer Bitmap(Span<byte> output, byte bits)
    {
        output[0] = bits;
        return new DsmAnswer(0, 1);
    }
}
