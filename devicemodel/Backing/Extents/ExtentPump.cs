using System.Runtime.CompilerServices;

namespace XenVnvdimm.DeviceModel.Backing.Extents;

/// <summary>The per-extent loop of a resolution pass, kept in one place so it is compiled optimized at once.</summary>
internal static class ExtentPump
{
    // A resolution is usually the process's only pass over millions of extents: waiting for tiered
    // compilation to promote the loop would leave most of it running unoptimized code. The batch
    // loop (RunBuilder.Add of a span) is marked the same way.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(FiemapReader reader, RunBuilder builder)
    {
        for (var batch = reader.NextBatch(); !batch.IsEmpty; batch = reader.NextBatch())
            builder.Add(batch);
        builder.Finish();
    }
}
