using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace XenVnvdimm.DeviceModel.Backing.Kernel;

/// <summary>
/// Anonymous memory reserved up front (address space only, PROT_NONE) and made usable front to back
/// as it is needed, so it never moves and is never copied while it grows, and nothing zeroes it
/// but the kernel. Past a head of ordinary pages it is committed in 2 MiB steps advised
/// MADV_HUGEPAGE, so filling it costs one fault per 2 MiB instead of one per 4 KiB (under a
/// hypervisor a 4 KiB fault of new memory costs tens of microseconds). Where transparent huge pages
/// are off it is ordinary memory, faulted 4 KiB at a time. Freed by <see cref="Dispose"/> or,
/// failing that, by the finalizer; the GC is told of the committed bytes so it accounts for them.
/// </summary>
internal sealed unsafe class ReservedMemory : IDisposable
{
    /// <summary>Bytes at the start in ordinary pages, committed <see cref="HeadStep"/> at a time (a short list stays small).</summary>
    public const nuint Head = 256 << 10;

    /// <summary>Commit step within the head.</summary>
    public const nuint HeadStep = 64 << 10;

    /// <summary>Commit step past the head: one x86-64 huge page.</summary>
    public const nuint Step = 2 << 20;

    private byte* _mapping;
    private readonly nuint _mappingLength;

    private ReservedMemory(byte* mapping, nuint mappingLength, byte* start, nuint reserved)
    {
        _mapping = mapping;
        _mappingLength = mappingLength;
        Start = start;
        Reserved = reserved;
    }

    ~ReservedMemory() => Free();

    /// <summary>First byte; <see cref="Committed"/> bytes from here are readable and writable (and zero until written).</summary>
    public byte* Start { get; }

    /// <summary>Bytes reserved: the most <see cref="Commit"/> can make usable.</summary>
    public nuint Reserved { get; }

    /// <summary>Bytes usable from <see cref="Start"/>.</summary>
    public nuint Committed { get; private set; }

    /// <summary>Bytes committed by every instance so far (for allocation statistics).</summary>
    public static long TotalCommitted => Interlocked.Read(ref s_totalCommitted);

    private static long s_totalCommitted;

    /// <summary>Reserves at least <paramref name="bytes"/> bytes (rounded up to the commit grid).</summary>
    public static ReservedMemory Reserve(nuint bytes)
    {
        nuint reserved = Round(Math.Max(bytes, 1));
        // Slack so the part past the head can start on a huge-page boundary.
        nuint length = reserved + (reserved > Head ? Step : 0);
        void* m = mmap(null, (size_t)(ulong)length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            throw new OutOfMemoryException($"mmap: cannot reserve {length} bytes: {Marshal.GetPInvokeErrorMessage(errno)}");
        byte* start = (byte*)m;
        if (reserved > Head)
        {
            start = (byte*)((((nuint)m + Head + Step - 1) & ~(Step - 1)) - Head);
            // Advice only: without transparent huge pages (EINVAL) the memory is ordinary memory.
            _ = madvise(start + Head, (size_t)(ulong)(reserved - Head), MADV_HUGEPAGE);
        }
        return new ReservedMemory((byte*)m, length, start, reserved);
    }

    /// <summary>Makes at least <paramref name="bytes"/> bytes usable; false when that exceeds <see cref="Reserved"/>.</summary>
    public bool Commit(nuint bytes)
    {
        ObjectDisposedException.ThrowIf(_mapping is null, this);
        if (bytes <= Committed)
            return true;
        if (bytes > Reserved)
            return false;
        nuint target = Round(bytes);
        if (mprotect(Start + Committed, (size_t)(ulong)(target - Committed), PROT_READ | PROT_WRITE) != 0)
            throw new OutOfMemoryException($"mprotect: cannot commit {target - Committed} bytes: {Marshal.GetPInvokeErrorMessage(errno)}");
        long added = (long)(target - Committed);
        GC.AddMemoryPressure(added);
        Interlocked.Add(ref s_totalCommitted, added);
        Committed = target;
        return true;
    }

    // The commit grid: whole head steps within the head, whole huge pages past it.
    private static nuint Round(nuint bytes)
        => bytes <= Head ? (bytes + HeadStep - 1) / HeadStep * HeadStep : Head + (bytes - Head + Step - 1) / Step * Step;

    /// <inheritdoc/>
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_mapping is null)
            return;
        munmap(_mapping, (size_t)(ulong)_mappingLength);
        _mapping = null;
        if (Committed > 0)
            GC.RemoveMemoryPressure((long)Committed);
    }
}
