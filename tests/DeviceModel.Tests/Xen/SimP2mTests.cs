using XenVnvdimm.DeviceModel.Xen.Sim;

namespace XenVnvdimm.Tests.Xen;

/// <summary>The simulator's range-based p2m against a naive per-page model, under random operations.</summary>
public class SimP2mTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_maps_and_unmaps_agree_with_a_per_page_model(int seed)
    {
        var rng = new Random(seed);
        var p2m = new SimP2m();
        var model = new Dictionary<ulong, (ulong Mfn, P2mType Type)>();
        for (int step = 0; step < 3000; step++)
        {
            ulong gfn = (ulong)rng.Next(0, 4096);
            ulong count = (ulong)rng.Next(1, 64);
            if (rng.Next(3) > 0)
            {
                ulong mfn = rng.Next(2) == 0 && model.TryGetValue(gfn, out var at) ? at.Mfn : (ulong)rng.Next(0, 1 << 20);
                var type = rng.Next(4) == 0 ? P2mType.Pmem : P2mType.MmioDirect;
                bool modelOk = Enumerable.Range(0, (int)count).All(i =>
                    !model.TryGetValue(gfn + (ulong)i, out var e) || (e.Mfn == mfn + (ulong)i && e.Type == type));
                ulong? conflict = p2m.FirstConflict(gfn, mfn, count, type);
                Assert.Equal(modelOk, conflict is null);
                if (conflict is null)
                {
                    p2m.Map(gfn, mfn, count, type, CacheAttr.WriteBack);
                    for (ulong i = 0; i < count; i++)
                        model[gfn + i] = (mfn + i, type);
                }
            }
            else
            {
                p2m.Unmap(gfn, count);
                for (ulong i = 0; i < count; i++)
                    model.Remove(gfn + i);
            }
        }
        Assert.Equal((ulong)model.Count, p2m.MappedFrames);
        for (ulong g = 0; g < 4200; g++)
        {
            var t = p2m.Lookup(g);
            Assert.Equal(model.TryGetValue(g, out var e), t is not null);
            if (t is not null)
                Assert.Equal((e.Mfn, e.Type), (t.Value.Mfn, t.Value.Type));
        }
        // Ranges are disjoint, sorted and maximal (neighbours that continue each other are merged).
        var ranges = p2m.Ranges.ToList();
        for (int i = 1; i < ranges.Count; i++)
        {
            Assert.True(ranges[i - 1].End <= ranges[i].Start);
            bool continues = ranges[i - 1].End == ranges[i].Start && ranges[i - 1].Value.Type == ranges[i].Value.Type
                && ranges[i - 1].Value.Mfn + ranges[i - 1].Count == ranges[i].Value.Mfn;
            Assert.False(continues, $"unmerged neighbours at 0x{ranges[i].Start:x}");
        }
    }

    [Fact]
    public void A_range_set_merges_and_splits()
    {
        var set = new SimRangeSet();
        set.Add(10, 10);
        set.Add(20, 5);
        Assert.Equal(1, set.RangeCount);
        Assert.True(set.ContainsAll(10, 24));
        set.Remove(15, 2);
        Assert.Equal(2, set.RangeCount);
        Assert.False(set.ContainsAll(10, 24));
        Assert.True(set.ContainsAll(17, 24));
        Assert.False(set.ContainsAll(25, 25));
    }
}
