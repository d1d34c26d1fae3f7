using System.Diagnostics;
using System.Globalization;
using System.Text;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.DeviceModel.Xen.Ioreq;
using XenVnvdimm.DeviceModel.Xen.Pmem;
using Xunit.Abstractions;

namespace XenVnvdimm.Tests.Xen;

/// <summary>
/// Hypercalls and wall time to populate guest pmem on the simulated hypervisor, against the fewest
/// calls each interface allows, and the ioreq round-trip cost. scripts/bench-xen runs it at full size
/// (XEN_BENCH_OUT=file); CI runs it small. Either way the call counts must equal the minimum.
/// </summary>
public class XenBenchmark(ITestOutputHelper output)
{
    private const ulong GiB = 1UL << 18; // frames

    private static string? OutFile => Environment.GetEnvironmentVariable("XEN_BENCH_OUT");

    private static bool Full => OutFile is not null;

    [Fact]
    public void Mapping_costs_against_the_theoretical_minimum()
    {
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"# xen-vnvdimm Xen-interface benchmark (simulated Xen 4.17 semantics), {DateTime.UtcNow:u}");
        report.AppendLine("# calls = hypercalls the simulated hypervisor received; min = fewest the interface allows for that scatter list");
        report.AppendLine(CultureInfo.InvariantCulture, $"{"scenario",-44} {"interface",-26} {"runs",8} {"map calls",10} {"min",10} {"vs min",6} {"perm calls",10} {"unmap calls",11} {"map ms",8} {"unmap ms",8}");
        var misses = new List<string>();

        ulong big = Full ? 1024 * GiB : 64 * GiB;
        ulong frag = Full ? 64 * GiB : 4 * GiB;
        var scenarios = new (string Name, Func<List<FrameRun>> Runs, double Scale)[]
        {
            ($"{big / GiB} GiB, 2 MiB-aligned runs", () => ScatterLists.Aligned(big, FrameRun.FramesPer2M, 21), 1),
            ($"{big / GiB} GiB, 1 GiB-aligned runs", () => ScatterLists.Aligned(big, FrameRun.FramesPer1G, 22), 1),
            ($"{frag / GiB} GiB, 4 KiB fragments", () => ScatterLists.Fragmented(frag, 23), 1024.0 * GiB / frag),
        };
        foreach (var (name, makeRuns, scale) in scenarios)
        {
            var runs = makeRuns();
            foreach (bool populate in new[] { false, true })
            {
                using var g = populate ? new SimGuest(SimGuest.SeriesXen()) : new SimGuest(session: new XenSessionOptions { PopulatePmemOp = null });
                var sw = Stopwatch.StartNew();
                g.Session.Pmem.Map(runs);
                double mapMs = sw.Elapsed.TotalMilliseconds;
                var afterMap = g.Hv.Counters.Snapshot();
                sw.Restart();
                g.Session.Pmem.Unmap();
                double unmapMs = sw.Elapsed.TotalMilliseconds;
                var afterUnmap = g.Hv.Counters.Snapshot();
                Assert.Equal(0, g.Domain.P2m.RangeCount);

                long Count(IReadOnlyDictionary<string, long> c, string k) => c.GetValueOrDefault(k);
                var coalesced = ScatterList.Coalesce(runs);
                long mapCalls, min, perm;
                if (populate)
                {
                    mapCalls = Count(afterMap, "memory_op:populate_pmem_map");
                    min = coalesced.Count; // one per maximal contiguous run
                    perm = 0;
                }
                else
                {
                    mapCalls = Count(afterMap, "domctl:memory_mapping");
                    min = (long)ScatterLists.MinMemoryMappingCalls(coalesced);
                    perm = Count(afterMap, "domctl:iomem_permission");
                    Assert.Equal(ScatterList.MachineRanges(coalesced).Count, perm);
                }
                if (mapCalls != min)
                    misses.Add($"{name}, {g.Session.Pmem.Interface}: {mapCalls} map calls, minimum {min}");
                long unmapCalls = Count(afterUnmap, "hypercall") - Count(afterMap, "hypercall");
                string label = scale > 1 ? $"{name} (x{scale:0} = 1 TiB)" : name;
                report.AppendLine(CultureInfo.InvariantCulture,
                    $"{label,-44} {g.Session.Pmem.Interface,-26} {runs.Count * scale,8:0} {mapCalls * scale,10:0} {min * scale,10:0} {(mapCalls == min ? "PASS" : "MISS"),6} {perm * scale,10:0} {unmapCalls * scale,11:0} {mapMs * scale,8:0} {unmapMs * scale,8:0}");
            }
            if (name.Contains("4 KiB", StringComparison.Ordinal))
            {
                ulong pages = runs.Aggregate(0UL, (a, r) => a + r.Count);
                report.AppendLine(CultureInfo.InvariantCulture,
                    $"#   absolute floor for memory_mapping at 4 KiB: nr_pages/64 = {pages / 64 * scale:0} (fragment boundaries add the rest)");
            }
        }

        report.AppendLine();
        report.AppendLine("# ioreq round trip (vCPU fills slot, notifies; companion loop answers, notifies back)");
        int accesses = Full ? 100_000 : 10_000;
        foreach (int vcpus in new[] { 1, 4 })
        {
            var (perAccessUs, completed) = IoreqRoundTrip(vcpus, accesses);
            if (completed != accesses)
                misses.Add($"ioreq, {vcpus} vCPU(s): {completed} of {accesses} accesses completed");
            report.AppendLine(CultureInfo.InvariantCulture,
                $"{vcpus} vCPU(s), {accesses} port accesses: {perAccessUs:0.0} us per access wall-clock ({1e6 / perAccessUs:0} accesses/s), {completed} answered");
        }

        // The report is written before the verdict, so a miss still leaves its numbers behind.
        report.AppendLine();
        report.AppendLine(misses.Count == 0
            ? "RESULT: PASS (every interface used the theoretical minimum of map calls; every port access answered)"
            : $"RESULT: MISS ({string.Join("; ", misses)})");
        string text = report.ToString();
        output.WriteLine(text);
        if (OutFile is string path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            File.WriteAllText(path, text);
        }
        Assert.Empty(misses);
    }

    private static (double PerAccessUs, long Completed) IoreqRoundTrip(int vcpus, int accesses)
    {
        using var g = new SimGuest(vcpus: vcpus);
        var server = g.Session.StartIoreqServer([new IoRange(IoSpace.Port, 0xa18, 0xa1f)], r => r.Address);
        int per = accesses / vcpus;
        var sw = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, vcpus).Select(v => new Thread(() =>
        {
            var cpu = g.Hv.Vcpu(g.Domain, v);
            for (int i = 0; i < per; i++)
                cpu.In(0xa18, 4);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        double us = sw.Elapsed.TotalMicroseconds / (per * vcpus);
        server.Dispose();
        return (us, server.Completed);
    }
}
