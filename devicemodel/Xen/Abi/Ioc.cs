namespace XenVnvdimm.DeviceModel.Xen.Abi;

/// <summary>Linux <c>_IOC</c> encoding (asm-generic/ioctl.h), so ioctl numbers are computed, not copied.</summary>
internal static class Ioc
{
    public const uint _IOC_NONE = 0;
    public const uint _IOC_WRITE = 1;
    public const uint _IOC_READ = 2;

    private const int NrShift = 0;
    private const int TypeShift = 8;
    private const int SizeShift = 16;
    private const int DirShift = 30;

    /// <summary>Encodes an ioctl request number.</summary>
    public static uint Make(uint dir, char type, uint nr, int size) =>
        (dir << DirShift) | ((uint)type << TypeShift) | (nr << NrShift) | ((uint)size << SizeShift);
}
