using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace XenVnvdimm.DeviceModel.Xen;

/// <summary>
/// Memory Xen may read and write during a hypercall: it must not be paged out or moved, or Xen fails the
/// copy with -EFAULT. Taken from /dev/xen/hypercall like libxencall does, else anonymous MAP_LOCKED memory.
/// </summary>
internal sealed unsafe class HypercallBuffer : IDisposable
{
    private readonly IXenDevice? _device;
    private void* _address;

    private HypercallBuffer(IXenDevice? device, void* address, nuint length)
    {
        _device = device;
        _address = address;
        Length = length;
    }

    /// <summary>Start of the buffer (page aligned).</summary>
    public void* Address => _address != null ? _address : throw new ObjectDisposedException(nameof(HypercallBuffer));

    /// <summary>Size in bytes (whole pages).</summary>
    public nuint Length { get; }

    /// <summary>
    /// The start of the buffer as a <typeparamref name="T"/>, its bytes zeroed first: a struct assignment
    /// may copy field by field, and Xen reads whole structs, so padding must not carry a previous call's bytes.
    /// </summary>
    public T* Cleared<T>() where T : unmanaged
    {
        if ((nuint)sizeof(T) > Length)
            throw new ArgumentOutOfRangeException(nameof(T), $"{typeof(T).Name} does not fit a {Length}-byte hypercall buffer");
        new Span<byte>(Address, sizeof(T)).Clear();
        return (T*)Address;
    }

    /// <summary>Allocates at least <paramref name="bytes"/> bytes of locked memory.</summary>
    public static HypercallBuffer Allocate(IXenDevice? hypercallDevice, nuint bytes)
    {
        nuint length = (bytes + (nuint)Abi.XenInternal.PageSize - 1) & ~((nuint)Abi.XenInternal.PageSize - 1);
        if (length == 0)
            length = (nuint)Abi.XenInternal.PageSize;
        if (hypercallDevice is not null)
            return new HypercallBuffer(hypercallDevice, hypercallDevice.Map(length), length);
        void* a = mmap(null, (size_t)(ulong)length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
        if (a == MAP_FAILED)
            throw new XenException($"mmap MAP_LOCKED ({length} bytes) for a hypercall buffer", errno);
        return new HypercallBuffer(null, a, length);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_address == null)
            return;
        if (_device is not null)
            _device.Unmap(_address, Length);
        else
            munmap(_address, (size_t)(ulong)Length);
        _address = null;
    }
}
