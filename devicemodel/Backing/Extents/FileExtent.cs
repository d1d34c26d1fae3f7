namespace XenVnvdimm.DeviceModel.Backing.Extents;

/// <summary>One FIEMAP record: <paramref name="Length"/> bytes at file offset <paramref name="Logical"/>
/// stored at byte <paramref name="Physical"/> of the filesystem's block device.</summary>
/// <param name="Logical">File offset in bytes.</param>
/// <param name="Physical">Offset on the filesystem's device in bytes.</param>
/// <param name="Length">Length in bytes.</param>
/// <param name="Flags">FIEMAP_EXTENT_* flags.</param>
internal readonly record struct FileExtent(ulong Logical, ulong Physical, ulong Length, uint Flags);
