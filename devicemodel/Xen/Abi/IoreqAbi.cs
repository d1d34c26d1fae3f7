using System.Runtime.InteropServices;

namespace XenVnvdimm.DeviceModel.Xen.Abi;

/// <summary>
/// struct ioreq (xen/hvm/ioreq.h), one per vCPU in the synchronous ioreq page. Byte 30 packs the C bit
/// fields state:4, data_is_ptr:1, dir:1, df:1 (see <see cref="IoreqConstants"/>).
/// </summary>
[AbiStruct, StructLayout(LayoutKind.Sequential)]
internal struct ioreq_t
{
    public ulong addr;
    public ulong data;
    public uint count;
    public uint size;
    public uint vp_eport;
    public ushort _pad0;
    public byte bits;
    public byte type;
}

/// <summary>ioreq states, types and the bit-field layout of byte 30.</summary>
[AbiConstants]
internal static class IoreqConstants
{
    public const byte STATE_IOREQ_NONE = 0;
    public const byte STATE_IOREQ_READY = 1;
    public const byte STATE_IOREQ_INPROCESS = 2;
    public const byte STATE_IORESP_READY = 3;
    public const byte IOREQ_TYPE_PIO = 0;
    public const byte IOREQ_TYPE_COPY = 1;
    public const byte IOREQ_TYPE_PCI_CONFIG = 2;
    public const byte IOREQ_TYPE_TIMEOFFSET = 7;
    public const byte IOREQ_TYPE_INVALIDATE = 8;
    public const byte IOREQ_READ = 1;
    public const byte IOREQ_WRITE = 0;

    /// <summary>Offset of the bit-field byte within ioreq_t.</summary>
    public const int IOREQ_BITS_OFFSET = 30;
    public const byte IOREQ_STATE_MASK = 0x0F;
    public const byte IOREQ_DATA_IS_PTR_MASK = 0x10;
    public const byte IOREQ_DIR_MASK = 0x20;
    public const byte IOREQ_DF_MASK = 0x40;
}
