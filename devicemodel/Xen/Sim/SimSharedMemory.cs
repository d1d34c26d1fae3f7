using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>
/// Pages the simulated hypervisor shares with the companion (ioreq pages, guest RAM): a memfd (or, for a
/// persisted simulator, a file) that the simulator maps for itself and that privcmd's mapping ioctls
/// alias into the caller's region with MAP_FIXED, so both sides see the same memory like with real Xen.
/// </summary>
internal sealed unsafe class SimSharedMemory : IDisposable
{
    private int _fd;

    /// <summary>
    /// Creates <paramref name="pages"/> pages: zeroed in a memfd, or kept in <paramref name="file"/> when
    /// given (an existing file keeps its contents: a persisted guest's RAM outlives the process).
    /// </summary>
    public SimSharedMemory(string name, int pages, string? file = null)
    {
        Pages = pages;
        if (file is null)
        {
            byte[] n = Encoding.UTF8.GetBytes("xen-sim-" + name + "\0");
            fixed (byte* p = n)
                _fd = memfd_create(p, MFD_CLOEXEC);
            if (_fd < 0)
                throw new XenException("memfd_create", errno);
        }
        else
        {
            byte[] n = Encoding.UTF8.GetBytes(file + "\0");
            fixed (byte* p = n)
                _fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, (mode_t)0x180); // 0600
            if (_fd < 0)
                throw new XenException($"open {file}", errno);
        }
        if (ftruncate(_fd, (off_t)(long)Length) != 0)
            throw new XenException("ftruncate memfd", errno);
        Address = (byte*)mmap(null, (size_t)(ulong)Length, PROT_READ | PROT_WRITE, MAP_SHARED, _fd, 0);
        if (Address == MAP_FAILED)
            throw new XenException("mmap memfd", errno);
    }

    /// <summary>Number of 4 KiB pages.</summary>
    public int Pages { get; }

    /// <summary>Size in bytes.</summary>
    public nuint Length => (nuint)Pages * 4096;

    /// <summary>The simulator's own view.</summary>
    public byte* Address { get; private set; }

    /// <summary>Maps pages [firstPage, firstPage + pages) over the caller's region at <paramref name="at"/>.</summary>
    public int AliasAt(void* at, int firstPage, int pages)
    {
        if (firstPage < 0 || pages <= 0 || firstPage + pages > Pages)
            return -22;
        void* a = mmap(at, (size_t)(ulong)((nuint)pages * 4096), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, _fd, (off_t)((long)firstPage * 4096));
        return a == MAP_FAILED ? -errno : 0;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Address != null)
        {
            munmap(Address, (size_t)(ulong)Length);
            Address = null;
        }
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
            close(fd);
    }
}
