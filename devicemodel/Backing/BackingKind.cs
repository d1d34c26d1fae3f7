namespace XenVnvdimm.DeviceModel.Backing;

/// <summary>What kind of object backs a vNVDIMM.</summary>
public enum BackingKind
{
    /// <summary>A regular file on a (DAX) filesystem.</summary>
    File,
    /// <summary>A pmem block device or one of its partitions (/dev/pmemX[pN]).</summary>
    PmemDevice,
    /// <summary>A device-dax instance (/dev/daxX.Y).</summary>
    DaxDevice,
}
