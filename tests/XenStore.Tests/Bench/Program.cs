using System.Diagnostics;
using System.Globalization;
using System.Text;
using XenVnvdimm.XenStore.Client;

// Round trips per second and watch-event latency of our client, of Debian's libxenstore tools
// and of pyxs, all against the same xenstored, in one run. Usage: --socket PATH --out FILE [--quick]
string socket = Arg("--socket") ?? throw new ArgumentException("--socket PATH required");
string outFile = Arg("--out") ?? "bench-results/xenstore.txt";
bool quick = args.Contains("--quick");
int scale = quick ? 10 : 1;
// Every wait is bounded: a dead xenstored, tool or pyxs fails the benchmark instead of hanging it.
var eventTimeout = TimeSpan.FromSeconds(10);
var processTimeout = TimeSpan.FromSeconds(120);

var report = new StringBuilder();
void Line(string text)
{
    Console.WriteLine(text);
    report.AppendLine(text);
}

string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
Line($"xenstore benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPUs (load average {load} at start), "
     + $"server: xen-vnvdimm xenstored on {socket}");
Line("");
Line("Round trips (one request, one reply), alternating WRITE and READ of small values:");

await using (var client = await XenStoreClient.ConnectAsync(socket))
{
    // Warm up JIT and server paths.
    await Sequential(client, 2000, "/bench/warm");
    int n = 20000 / scale;
    var sw = Stopwatch.StartNew();
    await Sequential(client, n, "/bench/ours");
    Row("ours, sequential (1 in flight)", n / sw.Elapsed.TotalSeconds, $"{n} requests");

    sw.Restart();
    int inFlight = 64, perWorker = n * 2 / inFlight;
    await Task.WhenAll(Enumerable.Range(0, inFlight).Select(w => Sequential(client, perWorker, $"/bench/pipe/{w}")));
    Row($"ours, pipelined ({inFlight} in flight, 1 connection)", inFlight * perWorker / sw.Elapsed.TotalSeconds, $"{inFlight * perWorker} requests");
}

{
    int n = 5000 / scale;
    var r = await Run("/usr/bin/python3", ["-c", PyRoundTrips, n.ToString(CultureInfo.InvariantCulture)]);
    Row("pyxs, sequential (1 in flight)", double.Parse(r.Trim(), CultureInfo.InvariantCulture), $"{n} requests, timed inside python");
}

{
    int n = 300 / scale;
    var sw = Stopwatch.StartNew();
    for (int i = 0; i < n; i++)
    {
        if (i % 2 == 0)
            await Run("xenstore-write", [$"/bench/tool/k{i % 50}", "value"]);
        else
            await Run("xenstore-read", [$"/bench/tool/k{(i - 1) % 50}"]);
    }
    Row("xenstore-write/-read, one process per request", n / sw.Elapsed.TotalSeconds, $"{n} processes (includes exec + connect)");

    int keys = 500, batches = Math.Max(2, 20 / scale);
    var writeArgs = Enumerable.Range(0, keys).SelectMany(k => new[] { $"/bench/batch/k{k}", "value" }).ToArray();
    var readArgs = Enumerable.Range(0, keys).Select(k => $"/bench/batch/k{k}").ToArray();
    sw.Restart();
    for (int b = 0; b < batches; b++)
        await Run(b % 2 == 0 ? "xenstore-write" : "xenstore-read", b % 2 == 0 ? writeArgs : readArgs);
    // Each multi-key invocation is one transaction: start + keys requests + end.
    Row($"xenstore-write/-read, {keys} keys per process", batches * (keys + 2) / sw.Elapsed.TotalSeconds, $"{batches} processes, libxenstore's per-request rate");
}

Line("");
Line("Watch-event latency (write issued → event delivered to the watcher), median / p99:");

await using (var writer = await XenStoreClient.ConnectAsync(socket))
await using (var watcher = await XenStoreClient.ConnectAsync(socket))
{
    await using var watch = await watcher.WatchAsync("/bench/lat");
    await NextEvent(watch, _ => true, "/bench/lat (registration)"); // registration event
    int n = 2000 / scale;
    var samples = new List<double>(n);
    for (int i = 0; i < n; i++)
    {
        string path = $"/bench/lat/{i % 16}";
        long start = Stopwatch.GetTimestamp();
        await writer.WriteAsync(path, "x");
        await NextEvent(watch, e => e.Path == path, path);
        samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
    }
    Latency("ours → ours (separate connections)", samples);
}

{
    int n = 1000 / scale;
    var r = await Run("/usr/bin/python3", ["-c", PyLatency, n.ToString(CultureInfo.InvariantCulture)]);
    Latency("pyxs → pyxs (separate connections)", r.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToList());
}

await using (var writer = await XenStoreClient.ConnectAsync(socket))
{
    var psi = Psi("xenstore-watch", ["/bench/tlat"]);
    using var tool = Process.Start(psi)!;
    var toolErr = tool.StandardError.ReadToEndAsync(); // drained, so the tool never blocks on it
    try
    {
        await WatchLine(tool, toolErr, "/bench/tlat"); // registration event
        int n = 500 / scale;
        var samples = new List<double>(n);
        for (int i = 0; i < n; i++)
        {
            string path = $"/bench/tlat/{i % 16}";
            long start = Stopwatch.GetTimestamp();
            await writer.WriteAsync(path, "x");
            await WatchLine(tool, toolErr, path);
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }
        Latency("ours → xenstore-watch (stdout line)", samples);

        n = 100 / scale;
        samples.Clear();
        for (int i = 0; i < n; i++)
        {
            string path = $"/bench/tlat/w{i % 16}";
            long start = Stopwatch.GetTimestamp();
            var write = Run("xenstore-write", [path, "x"]);
            await WatchLine(tool, toolErr, path);
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            await write;
        }
        Latency("xenstore-write → xenstore-watch (process per write)", samples);
    }
    finally
    {
        if (!tool.HasExited)
            tool.Kill();
    }
}

Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outFile))!);
File.WriteAllText(outFile, report.ToString());
Console.WriteLine($"(written to {outFile})");
return 0;

void Row(string name, double perSecond, string note) =>
    Line($"  {name,-50} {perSecond,10:N0} rt/s   ({note})");

void Latency(string name, List<double> samples)
{
    samples.Sort();
    double median = samples[samples.Count / 2];
    double p99 = samples[Math.Min(samples.Count - 1, (int)(samples.Count * 0.99))];
    Line($"  {name,-50} {median,8:N0} µs / {p99,8:N0} µs   ({samples.Count} events)");
}

static async Task Sequential(XenStoreClient client, int n, string prefix)
{
    for (int i = 0; i < n; i++)
    {
        string path = $"{prefix}/k{i % 64}";
        if (i % 2 == 0)
            await client.WriteAsync(path, "value");
        else
            await client.ReadAsync($"{prefix}/k{(i - 1) % 64}");
    }
}

ProcessStartInfo Psi(string file, string[] arguments)
{
    var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (var a in arguments)
        psi.ArgumentList.Add(a);
    psi.Environment["XENSTORED_PATH"] = socket;
    return psi;
}

// Next event of a watch matching `match`, within eventTimeout.
async Task NextEvent(XenStoreWatch watch, Func<XenStoreWatchEvent, bool> match, string what)
{
    using var cts = new CancellationTokenSource(eventTimeout);
    try
    {
        await watch.WaitForAsync(match, cts.Token);
    }
    catch (OperationCanceledException) when (cts.IsCancellationRequested)
    {
        throw new TimeoutException($"no watch event for {what} within {eventTimeout.TotalSeconds} s");
    }
}

// Reads xenstore-watch's lines until one is `expected`, within eventTimeout; its end of output
// (the tool died) or silence is an error, not an endless wait.
async Task WatchLine(Process tool, Task<string> stderr, string expected)
{
    var deadline = Task.Delay(eventTimeout);
    while (true)
    {
        var read = tool.StandardOutput.ReadLineAsync();
        if (await Task.WhenAny(read, deadline) == deadline)
            throw new TimeoutException($"xenstore-watch printed no '{expected}' within {eventTimeout.TotalSeconds} s");
        string? line = await read;
        if (line is null)
        {
            tool.WaitForExit(1000);
            string err = stderr.IsCompleted ? await stderr : "";
            throw new InvalidOperationException($"xenstore-watch ended ({(tool.HasExited ? $"exit {tool.ExitCode}" : "output closed")}) before printing '{expected}': {err.Trim()}");
        }
        if (line == expected)
            return;
    }
}

async Task<string> Run(string file, string[] arguments)
{
    using var p = Process.Start(Psi(file, arguments))!;
    var stdout = p.StandardOutput.ReadToEndAsync();
    var stderr = p.StandardError.ReadToEndAsync();
    using (var cts = new CancellationTokenSource(processTimeout))
    {
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within {processTimeout.TotalSeconds} s");
        }
    }
    if (p.ExitCode != 0)
        throw new InvalidOperationException($"{file} failed ({p.ExitCode}): {await stderr}");
    return await stdout;
}

string? Arg(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

partial class Program
{
    private const string PyRoundTrips = """
        import sys, time
        from pyxs import Client
        n = int(sys.argv[1])
        with Client() as c:
            for i in range(200):
                c.write(b"/bench/py/warm", b"v")
            t = time.perf_counter()
            for i in range(n):
                if i % 2 == 0:
                    c.write(b"/bench/py/k%d" % (i % 64), b"value")
                else:
                    c.read(b"/bench/py/k%d" % ((i - 1) % 64))
            print(n / (time.perf_counter() - t))
        """;

    private const string PyLatency = """
        import sys, time
        from pyxs import Client
        n = int(sys.argv[1])
        with Client() as w, Client() as r:
            m = r.monitor()
            m.watch(b"/bench/plat", b"t")
            events = m.wait()
            next(events)
            out = []
            for i in range(n):
                path = b"/bench/plat/%d" % (i % 16)
                t = time.perf_counter()
                w.write(path, b"x")
                while next(events).path != path:
                    pass
                out.append((time.perf_counter() - t) * 1e6)
            print(" ".join("%.1f" % x for x in out))
        """;
}
