using System.Buffers.Binary;

namespace XenVnvdimm.Acpi.Nfit;

/// <summary>The type/length prefix shared by every NFIT sub-structure.</summary>
internal static class NfitField
{
    public const int TypeOffset = 0;
    public const int LengthOffset = 2;

    public static void WriteHeader(Span<byte> d, ushort type, int length)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(d[TypeOffset..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(d[LengthOffset..], checked((ushort)length));
    }
}
