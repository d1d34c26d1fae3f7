using System.Text.Json;
using XenVnvdimm.DeviceModel.Cli;
using XenVnvdimm.Tests.Backing.Support;
using Xunit;

namespace XenVnvdimm.Tests.Backing;

/// <summary><c>xen-vnvdimm inspect</c> end to end on a real ext4 image, checked against filefrag.</summary>
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
