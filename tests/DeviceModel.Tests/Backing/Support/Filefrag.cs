using System.Globalization;
using System.Text.RegularExpressions;

namespace XenVnvdimm.Tests.Backing.Support;

/// <summary>One extent line of <c>filefrag -v</c>, converted to bytes.</summary>
internal readonly record struct FilefragExtent(ulong Logical, ulong Physical, ulong Length, string[] Flags)
{
    public bool Has(string flag) => Flags.Contains(flag);
}

/// <summary>Runs e2fsprogs' <c>filefrag -v</c> and parses its output: the independent peer for every resolved offset.</summary>
internal static partial class Filefrag
{
    [GeneratedRegex(@"^\s*\d+:\s+(\d+)\.\.\s*(\d+):\s+(\d+)\.\.\s*(\d+):\s+(\d+):\s*(\d*):?\s*(\S*)\s*$")]
    private static partial Regex ExtentLine();

    [GeneratedRegex(@"blocks of (\d+) bytes")]
    private static partial Regex BlockSizeLine();

    public static List<FilefragExtent> Extents(string path) => Parse(Shell.Run("filefrag", "-v", path));

    /// <summary>Parses <c>filefrag -v</c> output (from this host or a guest's console).</summary>
    public static List<FilefragExtent> Parse(string output)
    {
        ulong blockSize = ulong.Parse(BlockSizeLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var list = new List<FilefragExtent>();
        foreach (string line in output.Split('\n'))
        {
            var m = ExtentLine().Match(line);
            if (!m.Success)
                continue;
            ulong U(int g) => ulong.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
            list.Add(new FilefragExtent(U(1) * blockSize, U(3) * blockSize, U(5) * blockSize,
                m.Groups[7].Value.Split(',', StringSplitOptions.RemoveEmptyEntries)));
        }
        return list;
    }

    /// <summary>
    /// The runs a correct resolver must report for a fully written file: filefrag's extents with
    /// physically contiguous neighbours merged, shifted by the partition start.
    /// </summary>
    public static List<(ulong File, ulong Device, ulong Length)> ExpectedRuns(IEnumerable<FilefragExtent> extents, ulong partitionStart)
    {
        var runs = new List<(ulong File, ulong Device, ulong Length)>();
        foreach (var e in extents)
        {
            ulong device = e.Physical + partitionStart;
            if (runs.Count > 0 && runs[^1] is var last && last.File + last.Length == e.Logical && last.Device + last.Length == device)
                runs[^1] = (last.File, last.Device, last.Length + e.Length);
            else
                runs.Add((e.Logical, device, e.Length));
        }
        return runs;
    }
}
