using System.Globalization;

namespace XenVnvdimm.DeviceModel.Backing.Pinning;

/// <summary>
/// What a backing is, whatever path names it: the filesystem device and inode of a file, or the device
/// number of a block or dax device (<see cref="Inode"/> 0). Hard links share it; a file that was
/// replaced under the same name does not.
/// </summary>
/// <param name="Major">Major of the file's filesystem device, or of the device itself.</param>
/// <param name="Minor">Minor of the same.</param>
/// <param name="Inode">The file's inode number; 0 for a device.</param>
public readonly record struct BackingIdentity(uint Major, uint Minor, ulong Inode)
{
    /// <summary><c>dev 259:0 ino 12</c> or <c>dev 259:0</c>.</summary>
    public override string ToString() => Inode == 0
        ? string.Create(CultureInfo.InvariantCulture, $"dev {Major}:{Minor}")
        : string.Create(CultureInfo.InvariantCulture, $"dev {Major}:{Minor} ino {Inode}");
}
