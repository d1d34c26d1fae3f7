namespace XenVnvdimm.DeviceModel.Xen;

/// <summary>
/// The seam below which the kernel (or the simulated hypervisor) sits: one open Xen device file
/// (/dev/xen/privcmd, /dev/xen/evtchn, /dev/xen/hypercall). Everything above it — struct marshalling,
/// hypercall buffers, retry and undo logic — runs unchanged on real Xen and on the simulator.
/// </summary>
internal unsafe interface IXenDevice : IDisposable
{
    /// <summary>The device path, for messages.</summary>
    string Path { get; }

    /// <summary>ioctl(2): the non-negative result, or a negated errno.</summary>
    int Ioctl(uint request, void* arg);

    /// <summary>mmap(2) of <paramref name="length"/> bytes, shared, read-write, at offset 0; throws on failure.</summary>
    void* Map(nuint length);

    /// <summary>munmap(2) of a region returned by <see cref="Map"/>.</summary>
    void Unmap(void* address, nuint length);

    /// <summary>read(2): bytes read, or a negated errno.</summary>
    int Read(Span<byte> buffer);

    /// <summary>write(2): bytes written, or a negated errno.</summary>
    int Write(ReadOnlySpan<byte> data);

    /// <summary>poll(2) for input: true when <see cref="Read"/> would not block.</summary>
    bool WaitReadable(int timeoutMs);
}
