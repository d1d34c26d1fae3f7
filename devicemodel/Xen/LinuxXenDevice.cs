using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace XenVnvdimm.DeviceModel.Xen;

/// <summary>A real Xen device file opened through libc.</summary>
internal sealed unsafe class LinuxXenDevice : IXenDevice
{
    private int _fd;

    private LinuxXenDevice(int fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    /// <inheritdoc/>
    public string Path { get; }

    /// <summary>Opens <paramref name="path"/> read-write, close-on-exec.</summary>
    public static LinuxXenDevice Open(string path)
    {
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* pp = p)
        {
            do fd = open(pp, O_RDWR | O_CLOEXEC, default);
            while (fd < 0 && errno == EINTR);
        }
        if (fd < 0)
            throw new XenException($"open {path}", errno);
        return new LinuxXenDevice(fd, path);
    }

    /// <inheritdoc/>
    public int Ioctl(uint request, void* arg)
    {
        int rc;
        // privcmd restarts preempted hypercalls itself; EINTR only comes from signals before entry.
        do rc = ioctl(_fd, unchecked((int)request), arg);
        while (rc < 0 && errno == EINTR);
        return rc < 0 ? -errno : rc;
    }

    /// <inheritdoc/>
    public void* Map(nuint length)
    {
        void* a = mmap(null, (size_t)(ulong)length, PROT_READ | PROT_WRITE, MAP_SHARED, _fd, 0);
        if (a == MAP_FAILED)
            throw new XenException($"mmap {Path} ({length} bytes)", errno);
        return a;
    }

    /// <inheritdoc/>
    public void Unmap(void* address, nuint length) => munmap(address, (size_t)(ulong)length);

    /// <inheritdoc/>
    public int Read(Span<byte> buffer)
    {
        fixed (byte* b = buffer)
        {
            long n = read(_fd, b, (size_t)(ulong)buffer.Length);
            return n < 0 ? -errno : (int)n;
        }
    }

    /// <inheritdoc/>
    public int Write(ReadOnlySpan<byte> data)
    {
        fixed (byte* b = data)
        {
            long n = write(_fd, b, (size_t)(ulong)data.Length);
            return n < 0 ? -errno : (int)n;
        }
    }

    /// <inheritdoc/>
    public bool WaitReadable(int timeoutMs)
    {
        pollfd p = new() { fd = _fd, events = POLLIN };
        int rc = poll(&p, 1, timeoutMs);
        return rc > 0 && (p.revents & POLLIN) != 0;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
            close(fd);
    }
}
