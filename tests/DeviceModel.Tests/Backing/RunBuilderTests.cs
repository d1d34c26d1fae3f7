using XenVnvdimm.DeviceModel.Backing;
using XenVnvdimm.DeviceModel.Backing.Extents;
using Xunit;
using static XenVnvdimm.DeviceModel.Backing.Kernel.Fiemap;

namespace XenVnvdimm.Tests.Backing;

/// <summary>Coalescing and refusal rules on hand-made extent streams (expected runs worked out by hand).</summary>
public sealed class RunBuilderTests
{
    private const ulong K = 4096;

    private static (RunList Runs, RefusalList Refusals, RunBuilder Builder) Build(ulong size, ulong deviceBase, params FileExtent[] extents)
    {
        var runs = new RunList();
        var refusals = new RefusalList();
        var b = new RunBuilder(size, deviceBase, runs, refusals);
        foreach (var e in extents)
            b.Add(e);
        b.Finish();
        return (runs, refusals, b);
    }

    [Fact]
    public void PhysicallyContiguousExtentsMergeOthersDoNot()
    {
        var (runs, refusals, b) = Build(16 * K, 0x100000,
            new(0, 100 * K, 4 * K, 0),
            new(4 * K, 104 * K, 4 * K, FIEMAP_EXTENT_MERGED),  // continues the first: merged
            new(8 * K, 50 * K, 4 * K, 0),                       // jumps back: new run
            new(12 * K, 54 * K, 4 * K, FIEMAP_EXTENT_LAST));
        Assert.Empty(refusals.Items);
        Assert.Equal([new(0, 0x100000 + 100 * K, 8 * K), new(8 * K, 0x100000 + 50 * K, 8 * K)], runs.ToArray());
        Assert.Equal(4, b.Extents);
    }

    [Fact]
    public void ExtentsBeyondEndOfFileAreClippedOrIgnored()
    {
        var (runs, refusals, _) = Build(8 * K, 0,
            new(0, 10 * K, 12 * K, 0),                            // reaches past EOF: clipped to 8K
            new(12 * K, 40 * K, 4 * K, FIEMAP_EXTENT_UNWRITTEN | FIEMAP_EXTENT_LAST)); // preallocated past EOF
        Assert.Empty(refusals.Items);
        Assert.Equal([new(0, 10 * K, 8 * K)], runs.ToArray());
    }

    [Fact]
    public void HolesFlagsAndMisalignmentBecomeRangedRefusals()
    {
        var (runs, refusals, _) = Build(20 * K, 0,
            new(4 * K, 10 * K, 4 * K, FIEMAP_EXTENT_SHARED),
            new(8 * K, 20 * K, 4 * K, FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_UNKNOWN),
            new(12 * K, 30 * K + 512, 4 * K, 0),
            new(16 * K, 40 * K, 4 * K, 0x80000000 | FIEMAP_EXTENT_LAST)); // a flag newer than this program
        Assert.Equal(
            [
                (RefusalReason.Hole, 0UL, 4 * K),
                (RefusalReason.Shared, 4 * K, 8 * K),
                (RefusalReason.Delalloc, 8 * K, 12 * K), // the kernel sets UNKNOWN with DELALLOC
                (RefusalReason.NotAligned, 12 * K, 16 * K),
                (RefusalReason.Unknown, 16 * K, 20 * K),
            ],
            refusals.Items.Select(r => (r.Reason, r.Start, r.End)).ToArray());
        Assert.Empty(runs);
    }

    /// <summary>
    /// ENCODED, DATA_ENCRYPTED, DATA_INLINE and DATA_TAIL, alone and as the kernel really reports them
    /// (fs/ioctl.c adds ENCODED to DATA_ENCRYPTED and NOT_ALIGNED to INLINE/TAIL, whose physical
    /// offset is inside a metadata block). Flag values are uapi/linux/fiemap.h's, written out.
    /// </summary>
    [Fact]
    public void EncodedEncryptedInlineAndTailExtentsAreRefusedForTheirOwnReason()
    {
        const uint Last = 0x1, Encoded = 0x8, Encrypted = 0x80, NotAligned = 0x100, Inline = 0x200, Tail = 0x400;
        var (runs, refusals, _) = Build(12 * K, 0,
            new(0, 100 * K, K, 0),                                   // mappable
            new(1 * K, 101 * K, K, Encoded),                         // e.g. compressed
            new(2 * K, 102 * K, K, Encrypted),
            new(3 * K, 103 * K, K, Encrypted | Encoded),             // fscrypt, as the kernel reports it
            new(4 * K, 104 * K, K, Inline),
            new(5 * K, 105 * K + 160, K, Inline | NotAligned),       // ext4 inline data, inside the inode
            new(6 * K, 106 * K, K, Tail),
            new(7 * K, 107 * K + 2048, K, Tail | NotAligned),        // packed tail
            new(8 * K, 108 * K, K, 0),                               // mappable again
            new(9 * K, 109 * K, 3 * K, Encoded | Last));
        Assert.Equal(
            [
                (RefusalReason.Encoded, 1 * K, 2 * K, "extent flags ENCODED"),
                (RefusalReason.Encrypted, 2 * K, 3 * K, "extent flags DATA_ENCRYPTED"),
                (RefusalReason.Encrypted, 3 * K, 4 * K, "extent flags DATA_ENCRYPTED|ENCODED"),
                (RefusalReason.Inline, 4 * K, 5 * K, "extent flags DATA_INLINE"),
                (RefusalReason.Inline, 5 * K, 6 * K, "extent flags DATA_INLINE|NOT_ALIGNED"),
                (RefusalReason.Tail, 6 * K, 7 * K, "extent flags DATA_TAIL"),
                (RefusalReason.Tail, 7 * K, 8 * K, "extent flags DATA_TAIL|NOT_ALIGNED"),
                (RefusalReason.Encoded, 9 * K, 12 * K, "extent flags ENCODED"),
            ],
            refusals.Items.Select(r => (r.Reason, r.Start, r.End, r.Detail)).ToArray());
        // Only the two plain blocks map; none of the refused blocks' frames appear in a run.
        Assert.Equal([new(0, 100 * K, K), new(8 * K, 108 * K, K)], runs.ToArray());
    }

    [Fact]
    public void OverlappingExtentsMeanTheFileChanged()
    {
        var (_, refusals, _) = Build(8 * K, 0, new(0, 0, 8 * K, 0), new(4 * K, 100 * K, 4 * K, FIEMAP_EXTENT_LAST));
        Assert.Equal(RefusalReason.Changed, Assert.Single(refusals.Items).Reason);
    }

    [Fact]
    public void RefusalListMergesNeighboursAndCapsItsMemory()
    {
        var extents = new List<FileExtent>();
        for (ulong i = 0; i < 5000; i++)
            extents.Add(new(i * 2 * K, i * 8 * K, K, i % 2 == 0 ? FIEMAP_EXTENT_UNWRITTEN : 0)); // every other block a hole
        var (_, refusals, _) = Build(10000 * K, 0, [.. extents]);
        Assert.Equal(RefusalList.Limit, refusals.Items.Count);
        Assert.True(refusals.Total > RefusalList.Limit);
    }
}
