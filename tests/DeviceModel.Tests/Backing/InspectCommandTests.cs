using System.Text.Json;
using XenVnvdimm.DeviceModel.Cli;
using XenVnvdimm.Tests.Backing.Support;
using Xunit;

namespace XenVnvdimm.Tests.Backing;

/// <summary><c>xen-vnvdimm inspect</c> end to end on a real ext4 image, checked against filefrag.</summary>
[Collection("Console")]
public sealed class InspectCommandTests
{
    private static readonly object s_console = new();

    private static (int Code, string Stdout, string Stderr) Inspect(params string[] args)
    {
        lock (s_console)
        {
            var (oldOut, oldErr) = (Console.Out, Console.Error);
            var (o, e) = (new StringWriter(), new StringWriter());
            Console.SetOut(o);
            Console.SetError(e);
            try
            {
                return (CommandTable.Dispatch(["inspect", .. args]), o.ToString(), e.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
            }
        }
    }

    [Fact]
    public void JsonReportListsFilefragsRunsWithSpaAndMfn()
    {
        using var fs = new LoopFilesystem("ext4", 64, partitionStartSector: 2048);
        string f = fs.PathOf("backing");
        FileMaker.Write(f, 4L << 20);
        var (code, stdout, _) = Inspect(f, "--json", "--assume-spa-base", "0x100000000");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("accepted").GetBoolean());
        var expected = Filefrag.ExpectedRuns(Filefrag.Extents(f), fs.PartitionStart);
        var runs = root.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(expected.Count, runs.Count);
        for (int i = 0; i < runs.Count; i++)
        {
            Assert.Equal(expected[i].File, runs[i].GetProperty("fileOffset").GetUInt64());
            Assert.Equal(expected[i].Device, runs[i].GetProperty("deviceOffset").GetUInt64());
            Assert.Equal(0x100000000UL + expected[i].Device, runs[i].GetProperty("spa").GetUInt64());
            Assert.Equal((0x100000000UL + expected[i].Device) >> 12, runs[i].GetProperty("mfn").GetUInt64());
            Assert.Equal(expected[i].Length, runs[i].GetProperty("length").GetUInt64());
        }
        Assert.Equal(1024UL, root.GetProperty("totals").GetProperty("pages").GetUInt64());
    }

    /// <summary>
    /// Per-run alignment class and the 2M/1G-mappable totals, worked out here from filefrag's extents
    /// for several assumed SPA bases: one that makes the first run's machine frames 2 MiB-aligned,
    /// one that makes them 1 GiB-aligned (still only 2M: the run is shorter than 1 GiB), and one
    /// 4 KiB off (nothing superpage-mappable at the start).
    /// </summary>
    [Fact]
    public void JsonReportsEachRunsAlignmentClassAndTheMappableShares()
    {
        using var fs = new LoopFilesystem("ext4", 64);
        string f = fs.PathOf("backing");
        // Interleaving another file's synced writes splits the backing into several extents.
        AppendSynced(f, 3 << 20, FileMode.Create);
        AppendSynced(fs.PathOf("other"), 4096, FileMode.Create);
        AppendSynced(f, 3 << 20, FileMode.Append);
        AppendSynced(fs.PathOf("other"), 4096, FileMode.Append);
        AppendSynced(f, 2 << 20, FileMode.Append);
        var expected = Filefrag.ExpectedRuns(Filefrag.Extents(f), fs.PartitionStart);
        Assert.True(expected.Count >= 2, $"the test file should have several runs, filefrag shows {expected.Count}");

        const ulong G = 1UL << 30, M2 = 2UL << 20;
        ulong first = expected[0].Device;
        ulong base2M = 4 * G + (M2 - first % M2) % M2;   // SPA of run 0 = a 2 MiB boundary
        ulong base1G = 4 * G + (G - first % G) % G;      // SPA of run 0 = a 1 GiB boundary
        foreach (ulong spaBase in new[] { base2M, base1G, base2M + 4096 })
        {
            var (code, stdout, stderr) = Inspect(f, "--json", "--assume-spa-base", $"0x{spaBase:x}");
            Assert.True(code == 0, stderr);
            using var doc = JsonDocument.Parse(stdout);
            var runs = doc.RootElement.GetProperty("runs").EnumerateArray().ToList();
            Assert.Equal(expected.Count, runs.Count);
            ulong pages = 0, pages2M = 0, pages1G = 0;
            for (int i = 0; i < runs.Count; i++)
            {
                var (file, device, length) = expected[i];
                ulong spa = spaBase + device;
                Assert.Equal(ExpectedClass(file, spa, length), runs[i].GetProperty("alignment").GetString());
                Assert.Equal(file >> 12, runs[i].GetProperty("gfn").GetUInt64());
                pages += length >> 12;
                pages2M += WholeSuperpages(file, spa, length, M2);
                pages1G += WholeSuperpages(file, spa, length, G);
            }
            var totals = doc.RootElement.GetProperty("totals");
            Assert.Equal(pages, totals.GetProperty("pages").GetUInt64());
            Assert.Equal(pages2M, totals.GetProperty("pages2M").GetUInt64());
            Assert.Equal(pages1G, totals.GetProperty("pages1G").GetUInt64());
            Assert.Equal((double)pages2M / pages, totals.GetProperty("share2M").GetDouble(), 12);
            Assert.Equal((double)pages1G / pages, totals.GetProperty("share1G").GetDouble(), 12);
            if (spaBase != base2M + 4096)
            {
                Assert.Equal("2M", runs[0].GetProperty("alignment").GetString()); // 2 MiB-aligned, 3 MiB+ long, < 1 GiB
                Assert.True(pages2M >= 512, $"base 0x{spaBase:x}: run 0 holds at least one whole 2 MiB page");
            }
            else
                Assert.Equal("4K", runs[0].GetProperty("alignment").GetString());
        }
    }

    private static void AppendSynced(string path, int bytes, FileMode mode)
    {
        var data = new byte[bytes];
        Random.Shared.NextBytes(data);
        using var s = new FileStream(path, mode, FileAccess.Write);
        s.Write(data);
        s.Flush(flushToDisk: true);
    }

    /// <summary>1G or 2M when the run's guest offset and SPA both start on that boundary and it covers one such page; else 4K.</summary>
    private static string ExpectedClass(ulong guestOffset, ulong spa, ulong length)
    {
        foreach (var (size, name) in new[] { (1UL << 30, "1G"), (2UL << 20, "2M") })
            if (guestOffset % size == 0 && spa % size == 0 && length >= size)
                return name;
        return "4K";
    }

    /// <summary>4 KiB pages of the run inside guest superpages of <paramref name="size"/> that are wholly in the run and land on a machine superpage.</summary>
    private static ulong WholeSuperpages(ulong guestOffset, ulong spa, ulong length, ulong size)
    {
        ulong count = 0;
        for (ulong g = (guestOffset + size - 1) / size * size; g + size <= guestOffset + length; g += size)
            if ((spa + (g - guestOffset)) % size == 0)
                count += size >> 12;
        return count;
    }

    [Fact]
    public void RefusedBackingExitsOneAndNamesTheRangeBadArgumentsExitTwo()
    {
        using var fs = new LoopFilesystem("ext4", 64);
        string f = fs.PathOf("sparse");
        using (var h = File.OpenHandle(f, FileMode.Create, FileAccess.ReadWrite))
            RandomAccess.SetLength(h, 2L << 20);
        var (code, stdout, _) = Inspect(f, "--assume-spa-base", "0x100000000");
        Assert.Equal(1, code);
        Assert.Contains("REFUSED   Hole: file offset [0x0, 0x200000)", stdout, StringComparison.Ordinal);

        var (bad, _, stderr) = Inspect(f, "--assume-spa-base", "banana");
        Assert.Equal(2, bad);
        Assert.Contains("--assume-spa-base", stderr, StringComparison.Ordinal);
        Assert.Equal(2, Inspect("/nonexistent/backing").Code);
    }
}
