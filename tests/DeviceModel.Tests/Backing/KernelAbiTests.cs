using System.Globalization;
using System.Runtime.InteropServices;
using XenVnvdimm.DeviceModel.Backing.Kernel;
using XenVnvdimm.Tests.Backing.Support;
using Xunit;

namespace XenVnvdimm.Tests.Backing;

/// <summary>The system's kernel headers (compiled with gcc) judge every ioctl number, struct layout and flag.</summary>
public sealed class KernelAbiTests
{
    private static Dictionary<string, ulong> HeaderValues()
    {
        string dir = Directory.CreateTempSubdirectory("xvn-abi-").FullName;
        try
        {
            string source = Path.Combine(GuestNamespaces.RepoRoot(), "tests", "DeviceModel.Tests", "Backing", "c", "kernel-abi.c");
            string exe = Path.Combine(dir, "kernel-abi");
            Shell.Run("gcc", "-o", exe, source);
            return Shell.Run(exe).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => (Name: l[..l.LastIndexOf(' ')], Value: ulong.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)))
                .ToDictionary(x => x.Name, x => x.Value);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void IoctlNumbersStructsAndFlagsMatchTheKernelHeaders()
    {
        var h = HeaderValues();
        Assert.Equal(h["FS_IOC_FIEMAP"], Ioctl.FS_IOC_FIEMAP);
        Assert.Equal(h["FS_IOC_GETFLAGS"], Ioctl.FS_IOC_GETFLAGS);
        Assert.Equal(h["FS_IOC_SETFLAGS"], Ioctl.FS_IOC_SETFLAGS);
        Assert.Equal(h["FS_IOC_FSGETXATTR"], Ioctl.FS_IOC_FSGETXATTR);
        Assert.Equal(h["sizeof(struct fiemap)"], (ulong)Fiemap.HeaderSize);
        Assert.Equal(h["sizeof(struct fiemap_extent)"], (ulong)Fiemap.ExtentSize);
        Assert.Equal(h["offsetof(struct fiemap_extent, fe_flags)"], (ulong)Marshal.OffsetOf<FiemapExtent>(nameof(FiemapExtent.fe_flags)));
        Assert.Equal(h["offsetof(struct fiemap, fm_mapped_extents)"], (ulong)Marshal.OffsetOf<FiemapHeader>(nameof(FiemapHeader.fm_mapped_extents)));
        Assert.Equal(h["sizeof(struct fsxattr)"], (ulong)Marshal.SizeOf<FsXattr>());
        foreach (var field in typeof(Fiemap).GetFields().Where(f => f.IsLiteral))
            Assert.Equal(h[field.Name], Convert.ToUInt64(field.GetRawConstantValue(), CultureInfo.InvariantCulture));
        Assert.True(h["FS_IMMUTABLE_FL"] == InodeFlags.FS_IMMUTABLE_FL, "FS_IMMUTABLE_FL");
        Assert.True(h["FS_XFLAG_REALTIME"] == InodeFlags.FS_XFLAG_REALTIME, "FS_XFLAG_REALTIME");
    }
}
