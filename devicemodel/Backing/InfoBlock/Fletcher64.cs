using System.Buffers.Binary;

namespace XenVnvdimm.DeviceModel.Backing.InfoBlock;

/// <summary>
/// The nvdimm subsystem's Fletcher-64 (drivers/nvdimm/core.c <c>nd_fletcher64</c>): a 32-bit running
/// sum of little-endian u32 words and a 64-bit sum of those sums.
/// </summary>
internal static class Fletcher64
{
    /// <summary>Checksums <paramref name="data"/>, whose length must be a multiple of 4.</summary>
    public static ulong Compute(ReadOnlySpan<byte> data)
    {
        if (data.Length % 4 != 0)
            throw new ArgumentException("length must be a multiple of 4", nameof(data));
        uint lo = 0;
        ulong hi = 0;
        for (int i = 0; i < data.Length; i += 4)
        {
            lo += BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
            hi += lo;
        }
        return hi << 32 | lo;
    }
}
