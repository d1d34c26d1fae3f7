using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;
using XenVnvdimm.DeviceModel.Cli;
using XenVnvdimm.DeviceModel.Labels;

namespace XenVnvdimm.Tests.Dsm;

/// <summary>
/// Crash safety with real processes: <c>xen-vnvdimm label-torture</c> writes 4 KiB pages of a label
/// file and is SIGKILLed at random instants; after every kill the file is opened (replaying the
/// journal) and every page must hold exactly the content of its last acknowledged write, except
/// the one page of the write in flight, which may hold its old or its new content — nothing else.
/// </summary>
public sealed class LabelCrashTests(ITestOutputHelper output) : IDisposable
{
    private const int Size = 128 * 1024;
    private const int Pages = Size / LabelTortureCommand.PageBytes;
    private const int WritesWanted = 1000;
    private const int MinKills = 40;
    private const ulong Seed = 77;
    private readonly string _dir = Directory.CreateTempSubdirectory("xvn-crash-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Label_writes_are_all_old_or_all_new_after_SIGKILL_at_random_instants()
    {
        string label = Path.Combine(_dir, "label");
        var expected = Enumerable.Repeat(-1, Pages).ToArray(); // index of the last write per page; -1 = zeros
        var random = new Random(11);
        int next = 0, kills = 0, landed = 0, notLanded = 0, recovered = 0, earlyKills = 0;
        double maxDelayMs = 150;
        var clock = Stopwatch.StartNew();

        // At least 1,000 writes and 40 kills, however fast this disk's fdatasync happens to be.
        while (next < WritesWanted || kills < MinKills)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), $"only {next} writes after {kills} kills");
            bool early = kills % 6 == 5; // some kills land during start-up and journal replay
            var done = RunAndKill(label, next, early, random, maxDelayMs, out double runMs);
            // Aim for ~15 writes per child: a kill can land anywhere in a write, and start-up does not dominate.
            if (!early && done.Count > 0)
                maxDelayMs = Math.Clamp(30 * runMs / done.Count, 5, 300);
            kills++;
            earlyKills += early ? 1 : 0;

            // Acknowledged writes must be consecutive from where this round started.
            for (int k = 0; k < done.Count; k++)
                Assert.Equal(next + k, done[k]);
            foreach (int i in done)
                expected[LabelTortureCommand.PageOf(Seed, i, Pages)] = i;
            int inFlight = next + done.Count;
            int inFlightPage = LabelTortureCommand.PageOf(Seed, inFlight, Pages);

            using (var store = FileLabelStore.Open(label, Size))
            {
                recovered += store.RecoveredOnOpen ? 1 : 0;
                var page = new byte[LabelTortureCommand.PageBytes];
                for (int p = 0; p < Pages; p++)
                {
                    store.Read(p * page.Length, page);
                    if (page.AsSpan().SequenceEqual(Content(expected[p])))
                    {
                        if (p == inFlightPage)
                            notLanded++;
                        continue;
                    }
                    Assert.True(p == inFlightPage && page.AsSpan().SequenceEqual(Content(inFlight)),
                        $"kill {kills}: page {p} holds neither write {expected[p]} nor the in-flight write {inFlight} (page {inFlightPage})");
                    expected[p] = inFlight; // the unacknowledged write landed whole
                    landed++;
                }
            }
            next = expected[inFlightPage] == inFlight ? inFlight + 1 : inFlight;
        }

        output.WriteLine($"{kills} SIGKILLs ({earlyKills} during start-up), {next} writes done in {clock.Elapsed.TotalSeconds:F1} s; " +
            $"in-flight write found whole-new {landed}x, whole-old {notLanded}x; journal replays at open {recovered}");
        Assert.True(landed + notLanded >= MinKills - earlyKills, "kills did not interrupt writes");
    }

    private static byte[] Content(int index)
    {
        var page = new byte[LabelTortureCommand.PageBytes];
        if (index >= 0)
            LabelTortureCommand.Fill(Seed, index, page);
        return page;
    }

    /// <summary>Starts the torture at write <paramref name="start"/>, SIGKILLs it at a random instant, returns the acknowledged writes.</summary>
    private List<int> RunAndKill(string label, int start, bool early, Random random, double maxDelayMs, out double runMs)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "xen-vnvdimm.dll");
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.ASCII,
        };
        foreach (string a in new[] { dll, "label-torture", "--label", label, "--size", $"{Size}", "--seed", $"{Seed}",
                     "--start", $"{start}", "--count", $"{WritesWanted * 2}", "--quiet" })
            info.ArgumentList.Add(a);

        using var child = Process.Start(info)!;
        var lines = new List<string>();
        using var ready = new ManualResetEventSlim();
        var reader = new Thread(() =>
        {
            while (child.StandardOutput.ReadLine() is { } line)
            {
                lock (lines)
                    lines.Add(line);
                if (line == "ready")
                    ready.Set();
            }
        });
        reader.Start();
        var stderr = child.StandardError.ReadToEndAsync();

        var sinceReady = Stopwatch.StartNew();
        if (early)
        {
            Thread.Sleep(random.Next(150));
        }
        else
        {
            if (!ready.Wait(TimeSpan.FromSeconds(30)))
                Assert.Fail($"torture child never became ready: {stderr.Result}");
            sinceReady.Restart();
            var delay = TimeSpan.FromMilliseconds(random.NextDouble() * maxDelayMs);
            if (delay > TimeSpan.FromMilliseconds(2))
                Thread.Sleep(delay - TimeSpan.FromMilliseconds(2));
            while (sinceReady.Elapsed < delay) // the last stretch spun: kill instants not quantised to the scheduler tick
                Thread.SpinWait(50);
        }

        if (child.HasExited)
            Assert.Fail($"torture child exited by itself ({child.ExitCode}): {stderr.Result}");
        Assert.Equal(0, Tmds.Linux.LibC.kill(child.Id, Tmds.Linux.LibC.SIGKILL));
        runMs = sinceReady.Elapsed.TotalMilliseconds;
        child.WaitForExit();
        reader.Join();
        Assert.Equal(128 + 9, child.ExitCode); // died of SIGKILL, not of an error

        lock (lines)
        {
            output.WriteLine($"round at {start}: {lines.Count(l => l.StartsWith("done", StringComparison.Ordinal))} writes before the kill"
                + (lines.Contains("recovered") ? " (child replayed the journal)" : ""));
            return lines.Where(l => l.StartsWith("done ", StringComparison.Ordinal)).Select(l => int.Parse(l[5..])).ToList();
        }
    }
}
