using XenVnvdimm.DeviceModel.Backing.InfoBlock;
using XenVnvdimm.DeviceModel.Backing.Kernel;

namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>Reads the info block slot (namespace offset 4096) of a namespace exposed raw.</summary>
internal static class RawInfoBlock
{
    /// <summary>
    /// The validated info block of the raw namespace device at <paramref name="devicePath"/>, or null
    /// when the slot carries no pfn/dax signature.
    /// </summary>
    /// <exception cref="InfoBlockFormatException">A signature is there but the block is corrupt or unknown.</exception>
    public static PfnInfoBlock? Read(string devicePath, ulong namespaceSize)
    {
        var block = new byte[PfnInfoBlock.Size];
        using (var device = NativeFile.Open(devicePath, writable: false))
            device.ReadExactly(block, PfnInfoBlock.Offset);
        return PfnInfoBlockParser.HasSignature(block) ? PfnInfoBlockParser.Parse(block, namespaceSize) : null;
    }
}
