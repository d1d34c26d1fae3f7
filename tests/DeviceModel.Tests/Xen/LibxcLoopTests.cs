using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.DeviceModel.Xen.Pmem;
using XenVnvdimm.DeviceModel.Xen.Sim;

namespace XenVnvdimm.Tests.Xen;

/// <summary>
/// The memory_mapping loop against libxc itself: Xen's libxenctrl (libxen-dev) runs over a scripted fake
/// kernel (c/libxc_trace.c), the C# mapper over the same script, and their call sequences must agree.
/// </summary>
public class LibxcLoopTests
{
    private const ushort Dom = 7;

    private static (List<string> Calls, bool Failed) CSharp(ulong gfn, ulong mfn, ulong nr, bool add, ulong percall, ulong maxbatch, long failAdd, long failRemove)
    {
        var dev = new ScriptedPrivcmd();
        if (add)
            (dev.Percall, dev.Maxbatch, dev.FailAdd) = (percall, maxbatch, failAdd);
        var privcmd = new Privcmd(dev, new SimHypercallDevice());
        using var domctl = new Domctl(privcmd, NullLogger.Instance);
        var mapper = new MemoryMappingMapper(domctl, Dom, NullLogger.Instance);
        bool failed = false;
        try
        {
            mapper.Map([new FrameRun(gfn, mfn, nr)]);
            if (!add)
            {
                // The removal scenario: mapped in one go, then only the removal is scripted and compared.
                dev.Calls.Clear();
                (dev.Percall, dev.Maxbatch, dev.FailRemove) = (percall, maxbatch, failRemove);
                mapper.Unmap();
            }
        }
        catch (XenException)
        {
            failed = true;
        }
        return (dev.Calls, failed);
    }

    private static (List<string> Calls, bool Failed) Libxc(ulong gfn, ulong mfn, ulong nr, bool add, ulong percall, ulong maxbatch, long failAdd, long failRemove)
    {
        var lines = CReference.LibxcTrace("map", $"0x{gfn:x}", $"0x{mfn:x}", nr.ToString(CultureInfo.InvariantCulture), add ? "1" : "0",
            percall.ToString(CultureInfo.InvariantCulture), maxbatch == ulong.MaxValue ? "-1" : maxbatch.ToString(CultureInfo.InvariantCulture),
            failAdd.ToString(CultureInfo.InvariantCulture), failRemove.ToString(CultureInfo.InvariantCulture));
        Assert.StartsWith("rc ", lines[^1]);
        return (lines[..^1].ToList(), lines[^1] != "rc 0");
    }

    [Theory]
    [InlineData("4 KiB run, 64-frame partial counts", 0x100001UL, 0x200003UL, 1000UL, true, 64UL, ulong.MaxValue, -1L, -1L)]
    [InlineData("1 GiB aligned run, 64 x 2 MiB per call", 0x100000UL, 0x200000UL, 0x40000UL, true, 32768UL, ulong.MaxValue, -1L, -1L)]
    [InlineData("E2BIG halving", 0x100000UL, 0x200000UL, 4096UL, true, ulong.MaxValue, 1024UL, -1L, -1L)]
    [InlineData("failure midway undoes the whole range", 0x100001UL, 0x200003UL, 1000UL, true, 64UL, ulong.MaxValue, 5L, -1L)]
    [InlineData("first call fails", 0x100000UL, 0x200000UL, 512UL, true, 64UL, ulong.MaxValue, 0L, -1L)]
    [InlineData("removal goes on past an error", 0x100001UL, 0x200003UL, 1000UL, false, 64UL, ulong.MaxValue, -1L, 3L)]
    public void The_memory_mapping_loop_makes_the_calls_libxc_makes(string scenario, ulong gfn, ulong mfn, ulong nr, bool add, ulong percall, ulong maxbatch, long failAdd, long failRemove)
    {
        var c = Libxc(gfn, mfn, nr, add, percall, maxbatch, failAdd, failRemove);
        var cs = CSharp(gfn, mfn, nr, add, percall, maxbatch, failAdd, failRemove);
        Assert.True(c.Calls.Count > 0, scenario);
        Assert.Equal(c.Calls, cs.Calls);
        Assert.Equal(c.Failed, cs.Failed);
    }

    [Fact]
    public void Where_libxc_halving_breaks_2MiB_alignment_ours_keeps_every_batch_superpage_aligned()
    {
        // 7 x 2 MiB with -E2BIG above 2048 frames: libxc halves 3584 to 1792, which is not a 2 MiB multiple.
        var c = Libxc(0x100000, 0x200000, 3584, true, ulong.MaxValue, 2048, -1, -1);
        Assert.Equal(["mm 100000 200000 e00 1 -7", "mm 100000 200000 700 1 0", "mm 100700 200700 700 1 0"], c.Calls);
        var cs = CSharp(0x100000, 0x200000, 3584, true, ulong.MaxValue, 2048, -1, -1);
        Assert.Equal(["mm 100000 200000 e00 1 -7", "mm 100000 200000 600 1 0", "mm 100600 200600 600 1 0", "mm 100c00 200c00 200 1 0"], cs.Calls);
    }
}
