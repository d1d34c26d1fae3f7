using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.Tests.Xen;

/// <summary>One ioctl as the kernel would receive it: request number, argument bytes and the buffers it points to.</summary>
internal sealed record Recorded(uint Request, byte[] Main, List<byte[]> Nested);

/// <summary>
/// Test seam below the ioctl: records the bytes each ioctl passes (and the hypercall buffers they point
/// to), with pointer fields zeroed at the offsets Xen's headers give, then forwards to the real target.
/// </summary>
internal sealed unsafe class RecordingDevice(IXenDevice inner) : IXenDevice
{
    private static readonly int s_hcArg = CReference.Offset("privcmd_hypercall", "arg");
    private static readonly int s_dmUbufs = CReference.Offset("privcmd_dm_op", "ubufs");
    private static readonly int s_bufPtr = CReference.Offset("privcmd_dm_op_buf", "uptr");
    private static readonly int s_bufSize = CReference.Offset("privcmd_dm_op_buf", "size");
    private static readonly int s_resAddr = CReference.Offset("privcmd_mmap_resource", "addr");
    private static readonly int s_mbAddr = CReference.Offset("privcmd_mmapbatch_v2", "addr");
    private static readonly int s_mbArr = CReference.Offset("privcmd_mmapbatch_v2", "arr");
    private static readonly int s_mbErr = CReference.Offset("privcmd_mmapbatch_v2", "err");
    private static readonly int s_resvStart = CReference.Offset("xen_memory_reservation", "extent_start");
    private static readonly int s_resvNr = CReference.Offset("xen_memory_reservation", "nr_extents");
    private static readonly int s_domctlCmd = CReference.Offset("xen_domctl", "cmd");
    private static readonly int s_domctlU = CReference.Offset("xen_domctl", "u");
    private static readonly int s_pfiNum = CReference.Offset("xen_domctl_getpageframeinfo3", "num");
    private static readonly int s_pfiArray = CReference.Offset("xen_domctl_getpageframeinfo3", "array");

    public List<Recorded> Records { get; } = [];

    public string Path => inner.Path;

    public int Ioctl(uint request, void* arg)
    {
        Records.Add(Capture(request, (byte*)arg));
        return inner.Ioctl(request, arg);
    }

    private static Recorded Capture(uint request, byte* arg)
    {
        int size = (int)((request >> 16) & 0x3FFF); // _IOC_SIZE: what the kernel copies in
        byte[] main = new Span<byte>(arg, size).ToArray();
        var nested = new List<byte[]>();
        if (request == PrivcmdIoctls.IOCTL_PRIVCMD_HYPERCALL)
        {
            ulong op = *(ulong*)arg;
            ulong* a = (ulong*)(arg + s_hcArg);
            if (op == XenConstants.__HYPERVISOR_domctl)
            {
                byte* d = (byte*)a[0];
                nested.Add(new Span<byte>(d, 144).ToArray());
                Zero(main, s_hcArg, 8);
                if (*(uint*)(d + s_domctlCmd) == DomctlConstants.XEN_DOMCTL_getpageframeinfo3)
                {
                    ulong n = *(ulong*)(d + s_domctlU + s_pfiNum);
                    nested.Add(new Span<byte>((void*)*(ulong*)(d + s_domctlU + s_pfiArray), (int)n * 8).ToArray());
                    Zero(nested[0], s_domctlU + s_pfiArray, 8);
                }
            }
            else if (op == XenConstants.__HYPERVISOR_memory_op)
            {
                byte* p = (byte*)a[1];
                // The argument struct: xen_memory_domain for maximum_gpfn, 32 bytes for the others.
                nested.Add(new Span<byte>(p, (a[0] & 63) == MemoryConstants.XENMEM_maximum_gpfn ? 2 : 32).ToArray());
                Zero(main, s_hcArg + 8, 8);
                if ((a[0] & 63) is MemoryConstants.XENMEM_decrease_reservation or MemoryConstants.XENMEM_populate_physmap)
                {
                    ulong n = *(ulong*)(p + s_resvNr);
                    nested.Add(new Span<byte>((void*)*(ulong*)(p + s_resvStart), (int)n * 8).ToArray());
                    Zero(nested[0], s_resvStart, 8);
                }
            }
        }
        else if (request == PrivcmdIoctls.IOCTL_PRIVCMD_DM_OP)
        {
            ushort num = *(ushort*)(arg + 2);
            byte* bufs = (byte*)*(ulong*)(arg + s_dmUbufs);
            Zero(main, s_dmUbufs, 8);
            for (int i = 0; i < num; i++)
            {
                byte* b = bufs + 16 * i;
                byte[] desc = new Span<byte>(b, 16).ToArray();
                Zero(desc, s_bufPtr, 8);
                nested.Add(desc);
                nested.Add(new Span<byte>((void*)*(ulong*)(b + s_bufPtr), (int)*(ulong*)(b + s_bufSize)).ToArray());
            }
        }
        else if (request == PrivcmdIoctls.IOCTL_PRIVCMD_MMAP_RESOURCE)
        {
            Zero(main, s_resAddr, 8);
        }
        else if (request == PrivcmdIoctls.IOCTL_PRIVCMD_MMAPBATCH_V2)
        {
            uint num = *(uint*)arg;
            nested.Add(new Span<byte>((void*)*(ulong*)(arg + s_mbArr), (int)num * 8).ToArray());
            Zero(main, s_mbAddr, 8);
            Zero(main, s_mbArr, 8);
            Zero(main, s_mbErr, 8);
        }
        return new Recorded(request, main, nested);
    }

    private static void Zero(byte[] b, int offset, int count) => Array.Clear(b, offset, count);

    public void* Map(nuint length) => inner.Map(length);

    public void Unmap(void* address, nuint length) => inner.Unmap(address, length);

    public int Read(Span<byte> buffer) => inner.Read(buffer);

    public int Write(ReadOnlySpan<byte> data) => inner.Write(data);

    public bool WaitReadable(int timeoutMs) => inner.WaitReadable(timeoutMs);

    public void Dispose() => inner.Dispose();
}
