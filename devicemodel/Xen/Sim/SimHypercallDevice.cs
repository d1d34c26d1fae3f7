using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>The simulator's /dev/xen/hypercall: mmap gives anonymous memory (nothing to lock for an in-process Xen).</summary>
internal sealed unsafe class SimHypercallDevice : IXenDevice
{
    /// <inheritdoc/>
    public string Path => "sim:/dev/xen/hypercall";

    /// <inheritdoc/>
    public int Ioctl(uint request, void* arg) => -25;

    /// <inheritdoc/>
    public void* Map(nuint length)
    {
        void* a = mmap(null, (size_t)(ulong)length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (a == MAP_FAILED)
            throw new XenException("mmap sim hypercall buffer", errno);
        return a;
    }

    /// <inheritdoc/>
    public void Unmap(void* address, nuint length) => munmap(address, (size_t)(ulong)length);

    /// <inheritdoc/>
    public int Read(Span<byte> buffer) => -22;

    /// <inheritdoc/>
    public int Write(ReadOnlySpan<byte> data) => -22;

    /// <inheritdoc/>
    public bool WaitReadable(int timeoutMs) => false;

    /// <inheritdoc/>
    public void Dispose()
    {
    }
}
