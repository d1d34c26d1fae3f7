using XenVnvdimm.DeviceModel.Backing;
using XenVnvdimm.DeviceModel.Backing.Extents;
using XenVnvdimm.DeviceModel.Backing.Kernel;
using Xunit;
using static XenVnvdimm.DeviceModel.Backing.Kernel.Fiemap;

namespace XenVnvdimm.Tests.Backing;

/// <summary>The compact run list gives back exactly what was added, and the batch path of the run builder agrees with the per-extent path.</summary>
public sealed class RunListTests
{
    private const ulong K = 4096;

    private static ResolvedRun[] Sample(int count, int seed, bool aligned)
    {
        var rng = new Random(seed);
        var runs = new ResolvedRun[count];
        ulong file = 0, device = 1UL << 40;
        for (int i = 0; i < count; i++)
        {
            ulong Pick() => rng.Next(8) switch
            {
                0 => 0,
                1 => (ulong)rng.Next(1, 4) * K,
                2 => (ulong)rng.NextInt64(1, 1L << 40) * K,
                3 => ((ulong)rng.NextInt64() << 1) & (aligned ? ~(K - 1) : ulong.MaxValue), // anything, up to 2^64
                _ => (ulong)rng.Next(1, 1000) * K,
            };
            ulong length = Math.Max(K, Pick());
            ulong gap = Pick();
            ulong jump = Pick();
            if (!aligned)
                (length, gap, jump) = (length + (ulong)rng.Next(0, 4), gap + (ulong)rng.Next(0, 4), jump + (ulong)rng.Next(0, 4));
            file += gap;
            device = rng.Next(2) == 0 ? device + jump : device - jump; // jumps back as well, wrapping included
            runs[i] = new ResolvedRun(file, device, length);
            file += length;
            device += length;
        }
        runs[^1] = new ResolvedRun(ulong.MaxValue, ulong.MaxValue - 1, ulong.MaxValue); // extremes
        return runs;
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(true, 5000)]
    [InlineData(false, 0)]
    [InlineData(false, 1)]
    public void RunsComeBackExactlyByEnumeratorAndIndexer(bool aligned, long reserve)
    {
        var expected = Sample(20_000, aligned ? 1 : 2, aligned);
        var list = new RunList();
        list.Reserve(reserve); // 0: reserved lazily; 1 and 5000: outgrown, so the list moves
        foreach (var run in expected)
            list.Add(run);
        Assert.Equal(expected.Length, list.Count);
        Assert.Equal(expected, list.ToArray());
        foreach (int i in new[] { 0, 1, 63, 64, 65, 127, 128, 4095, 12_345, expected.Length - 1 })
            Assert.Equal(expected[i], list[i]);
        Assert.Throws<ArgumentOutOfRangeException>(() => list[expected.Length]);
        Assert.Throws<ArgumentOutOfRangeException>(() => list[-1]);
    }

    [Fact]
    public void AnEmptyListHoldsNothing()
    {
        var list = new RunList();
        Assert.Empty(list);
        Assert.Equal(0, list.StorageBytes);
    }

    [Fact]
    public void AFragmentedFilesRunsTakeFarLessThan24Bytes()
    {
        // Every block its own run, each one page before the last (a file written backwards).
        const int n = 200_000;
        var list = new RunList();
        list.Reserve(n);
        for (int i = 0; i < n; i++)
            list.Add(new ResolvedRun((ulong)i * K, (ulong)(n - i) * K, K));
        Assert.True(list.StorageBytes <= 32L * n, $"{list.StorageBytes} bytes");
        Assert.Equal(new ResolvedRun(5 * K, (n - 5) * K, K), list[5]);
        Assert.Equal(new ResolvedRun((n - 1) * K, K, K), list[n - 1]);
    }

    [Fact]
    public void AlignedRunsNeverTakeMoreThan24BytesAndACheckpointShare()
    {
        // Page-aligned runs whose every field needs the longest encoding.
        var runs = new List<ResolvedRun>();
        for (int i = 0; i < 10_000; i++)
            runs.Add(i % 2 == 0 ? new ResolvedRun(0xFFFF_FFFF_FFFF_F000, 0, 0xFFFF_FFFF_FFFF_F000) : new ResolvedRun(0, 0xFFFF_FFFF_FFFF_F000, 0xFFFF_FFFF_FFFF_F000));
        var list = new RunList();
        list.Reserve(runs.Count);
        foreach (var run in runs)
            list.Add(run);
        Assert.Equal(runs, list.ToArray());
        Assert.True(list.EncodedBytes <= (24 + 24 / 64.0) * runs.Count, $"{list.EncodedBytes} bytes for {runs.Count} runs");
    }

    /// <summary>Random streams (holes, overlaps, refused flags, misalignment, extents past EOF) give the same runs, refusals and counts whichever way they are fed.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void BatchesAndSingleExtentsBuildTheSameRuns(int seed)
    {
        var rng = new Random(seed);
        uint[] flags = [0, 0, 0, 0, 0, 0, FIEMAP_EXTENT_MERGED, FIEMAP_EXTENT_UNWRITTEN, FIEMAP_EXTENT_SHARED, FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_UNKNOWN, 0x80000000];
        var extents = new List<FiemapExtent>();
        ulong pos = 0, physical = 1 << 20;
        for (int i = 0; i < 5000; i++)
        {
            int kind = rng.Next(20);
            ulong start = kind switch { 0 => pos + (ulong)rng.Next(1, 4) * K, 1 => pos - Math.Min(pos, K), _ => pos };
            ulong length = (ulong)rng.Next(1, 5) * K;
            physical = rng.Next(3) == 0 ? physical + length : physical + (ulong)(rng.Next(-8, 8) * (long)K);
            // Misaligned start, length or physical offset, each for this extent only.
            extents.Add(new FiemapExtent
            {
                fe_logical = start + (kind == 2 ? 100UL : 0),
                fe_physical = physical + (kind == 4 ? 7UL : 0),
                fe_length = length + (kind == 3 ? 512UL : 0),
                fe_flags = flags[rng.Next(flags.Length)],
            });
            pos = start + length;
        }
        ulong size = pos - pos / 5; // some extents past EOF, one clipped
        var one = Build(size, extents, batch: 0);
        foreach (int batch in new[] { 1, 7, 512, extents.Count })
        {
            var other = Build(size, extents, batch);
            Assert.Equal(one.Runs, other.Runs);
            Assert.Equal(one.Refusals, other.Refusals);
            Assert.Equal(one.Counts, other.Counts);
        }
        Assert.NotEmpty(one.Runs);
        Assert.NotEmpty(one.Refusals);
    }

    private static (ResolvedRun[] Runs, (RefusalReason, ulong, ulong, string)[] Refusals, (long, long, long) Counts) Build(ulong size, List<FiemapExtent> extents, int batch)
    {
        var runs = new RunList();
        var refusals = new RefusalList();
        var b = new RunBuilder(size, 0x40000000, runs, refusals);
        if (batch == 0)
        {
            foreach (var e in extents)
                b.Add(new FileExtent(e.fe_logical, e.fe_physical, e.fe_length, e.fe_flags));
        }
        else
        {
            var all = extents.ToArray();
            for (int i = 0; i < all.Length; i += batch)
                b.Add(all.AsSpan(i, Math.Min(batch, all.Length - i)));
        }
        b.Finish();
        return (runs.ToArray(), refusals.Items.Select(r => (r.Reason, r.Start, r.End, r.Detail)).ToArray(), (b.Extents, b.Runs, refusals.Total));
    }
}
