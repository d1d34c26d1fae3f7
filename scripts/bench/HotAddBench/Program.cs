using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using XenVnvdimm.DeviceModel.Platforms.Qemu;
using XenVnvdimm.XenStore.Client;

// Timing driver for scripts/bench-hotadd (issue 5). Every wait has a deadline: a dead companion,
// xenstored, QEMU or guest fails the run (exit 1, reason on stderr) instead of hanging it.
//
//   sim --socket S --domid N --backings F1,F2,.. [--cli-backings G1,..] --dll XEN_VNVDIMM_DLL
//       The companion (run --platform sim) is already serving domain N. For each Fi: write
//       "<id> add backend=Fi, label_size=0" to the command node, wait for result/<id> (a watch);
//       the time from the write to the result is one sample. Peer in the same run: the xenstore
//       floor (a write to a scratch node until the watch event, same connection pair), and the
//       same add through the `xen-vnvdimm hot-add` CLI (process start + connect + wait) for Gi.
//   guest --socket S --domid N --dll DLL --config CFG --script G --ready F0 --backings F1,..
//       Starts `run --platform qemu --domid N` (the guest script rebinds the nfit driver until
//       each /dev/pmemI appears, then writes "XVND-SEEN-I" at its offset 0); per device: time from
//       the command write to the result node, and to the marker landing in the backing file Fi.
//   qemu --harness scripts/guest/run --script G --ready F0 --backings F1,..
//       Peer: QEMU's own -device nvdimm hot-plugged over QMP (object-add + device_add nvdimm; QEMU
//       notifies the guest, Linux re-reads _FIT by itself); time from the QMP command to the marker.
// Output: "key: value" lines and a statistics table on stdout; --out FILE appends the same text.
var opts = Options.Parse(args);
var report = new StringBuilder();
void Line(string s)
{
    Console.WriteLine(s);
    report.AppendLine(s);
}

try
{
    switch (opts.Mode)
    {
        case "sim": await Sim(); break;
        case "guest": await Guest(); break;
        case "qemu": await QemuPeer(); break;
        default: throw new BenchFailure($"unknown mode '{opts.Mode}' (sim, guest, qemu)");
    }
}
catch (Exception e) when (e is BenchFailure or InvalidOperationException or OperationCanceledException or IOException or XenVnvdimm.XenStore.XenStoreException or XenVnvdimm.XenStore.XenStoreConnectionException or TimeoutException or SocketException)
{
    Console.Error.WriteLine($"hotadd-bench {opts.Mode}: FAILED: {(e is OperationCanceledException ? "timed out" : e.Message)}");
    Flush();
    return 1;
}
Flush();
return 0;

void Flush()
{
    if (opts.Get("--out") is { } path)
        File.AppendAllText(path, report.ToString());
}

async Task Sim()
{
    string socket = opts.Required("--socket");
    uint domid = uint.Parse(opts.Required("--domid"), CultureInfo.InvariantCulture);
    var backings = opts.List("--backings");
    var cliBackings = opts.List("--cli-backings");
    string b = $"/local/domain/0/device-model/{domid}/vnvdimm";

    await using var client = await XenStoreClient.ConnectAsync(socket, new XenStoreClientOptions { RequestTimeout = TimeSpan.FromSeconds(30) });
    await using var watcher = await XenStoreClient.ConnectAsync(socket, new XenStoreClientOptions { RequestTimeout = TimeSpan.FromSeconds(30) });
    string state = await client.TryReadStringAsync($"{b}/state") ?? "(absent)";
    if (state != "running")
        throw new BenchFailure($"companion of domain {domid} is not running (state {state})");

    // The floor: what one xenstore write costs until a watcher on another connection sees it.
    var floor = new List<double>();
    await using (var w = await watcher.WatchAsync("/bench/hotadd-floor"))
    {
        await ReadEvent(w, _ => true, 10); // registration event
        for (int i = 0; i < Math.Max(50, backings.Count * 5); i++)
        {
            string path = $"/bench/hotadd-floor/k{i % 8}";
            long t0 = Stopwatch.GetTimestamp();
            await client.WriteAsync(path, "x");
            await ReadEvent(w, e => e.Path == path, 10);
            floor.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
    }

    var samples = new List<double>();
    int slot0 = -1;
    for (int i = 0; i < backings.Count; i++)
    {
        string id = $"bench-{Environment.ProcessId}-{i}";
        var (ms, result) = await TimedAdd(client, watcher, b, id, $"backend={backings[i]}, label_size=0", 60);
        int slot = ParseSlot(result, id);
        if (slot0 < 0)
            slot0 = slot;
        else if (slot != slot0 + i)
            throw new BenchFailure($"request {id}: slot {slot}, expected {slot0 + i}");
        samples.Add(ms);
    }

    var cli = new List<double>();
    foreach (string f in cliBackings)
    {
        long t0 = Stopwatch.GetTimestamp();
        var (code, stdout, stderr) = await RunProcess("dotnet", [opts.Required("--dll"), "hot-add", "--domid", domid.ToString(CultureInfo.InvariantCulture), "--timeout", "60", $"backend={f}, label_size=0"],
            ("XENSTORED_PATH", socket), 90);
        double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        if (code != 0 || !stdout.StartsWith("ok slot=", StringComparison.Ordinal))
            throw new BenchFailure($"xen-vnvdimm hot-add {f}: exit {code}: {stdout}{stderr}");
        cli.Add(ms);
    }

    Line(Stats.Header);
    Line(Stats.Row("sim: xenstore command -> result node (companion hot-add)", samples));
    Line(Stats.Row("sim: the same without the first add (warm code paths)", samples.Skip(1).ToList()));
    Line(Stats.Row("peer: xenstore write -> watch event (transport floor)", floor));
    if (cli.Count > 0)
        Line(Stats.Row("sim: `xen-vnvdimm hot-add` CLI, whole process", cli));
    Line($"sim: first add {samples[0]:F2} ms (cold code paths in the companion); companion's own share of the median "
         + $"(command->result minus the floor): {Stats.Median(samples) - Stats.Median(floor):F2} ms");
}

async Task Guest()
{
    string socket = opts.Required("--socket");
    uint domid = uint.Parse(opts.Required("--domid"), CultureInfo.InvariantCulture);
    var backings = opts.List("--backings");
    string ready = opts.Required("--ready");
    string b = $"/local/domain/0/device-model/{domid}/vnvdimm";
    string console = opts.Required("--console-log");
    int timeout = int.Parse(opts.Get("--timeout") ?? "600", CultureInfo.InvariantCulture);

    var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (string a in new[] { opts.Required("--dll"), "run", "--platform", "qemu", "--domid", domid.ToString(CultureInfo.InvariantCulture), "--config", opts.Required("--config"),
                 "--guest-script", opts.Required("--script"), "--console-log", console, "--timeout", timeout.ToString(CultureInfo.InvariantCulture) })
        psi.ArgumentList.Add(a);
    psi.Environment["XENSTORED_PATH"] = socket;
    using var run = Process.Start(psi) ?? throw new BenchFailure("cannot start the companion");
    var stdout = run.StandardOutput.ReadToEndAsync();
    var stderr = run.StandardError.ReadToEndAsync();
    try
    {
        long boot = Stopwatch.GetTimestamp();
        await WaitUntil(() => Marker(ready, "XVND-READY") || run.HasExited, "the guest to start (XVND-READY on /dev/pmem0)", timeout);
        if (run.HasExited)
            throw new BenchFailure($"the companion exited early ({run.ExitCode}): {Tail(await stderr)}{Tail(Read(console))}");
        double bootSeconds = Stopwatch.GetElapsedTime(boot).TotalSeconds;

        await using var client = await XenStoreClient.ConnectAsync(socket);
        await using var watcher = await XenStoreClient.ConnectAsync(socket);
        string state = await client.TryReadStringAsync($"{b}/state") ?? "(absent)";
        if (state != "running")
            throw new BenchFailure($"companion state is {state}, not running");
        var toResult = new List<double>();
        var toGuest = new List<double>();
        for (int i = 0; i < backings.Count; i++)
        {
            string id = $"bench-guest-{i}";
            long t0 = Stopwatch.GetTimestamp();
            var (ms, result) = await TimedAdd(client, watcher, b, id, $"backend={backings[i]}, label_size=0", 120);
            ParseSlot(result, id);
            toResult.Add(ms);
            string marker = $"XVND-SEEN-{i + 1}";
            await WaitUntil(() => Marker(backings[i], marker) || run.HasExited, $"/dev/pmem{i + 1} in the guest ({marker} in {backings[i]})", 180, pollMs: 2);
            if (run.HasExited)
                throw new BenchFailure($"the guest ended before /dev/pmem{i + 1} appeared: {Tail(Read(console))}");
            toGuest.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        if (!run.WaitForExit(TimeSpan.FromSeconds(120)))
            throw new BenchFailure("the guest did not finish its script");
        await run.WaitForExitAsync();
        if (run.ExitCode != 0)
            throw new BenchFailure($"the companion/guest exited {run.ExitCode}: {Tail(await stderr)}{Tail(Read(console))}");
        string log = Read(console);
        for (int i = 1; i <= backings.Count; i++)
        {
            long size = new FileInfo(backings[i - 1]).Length;
            if (!log.Contains($"BENCH-SEEN pmem{i} {size}", StringComparison.Ordinal))
                throw new BenchFailure($"the guest did not report /dev/pmem{i} of {size} bytes: {Tail(log)}");
        }
        Line($"qemu platform: guest up (XVND-READY) {bootSeconds:F1} s after the companion started; rebinds per device: {string.Join(' ', Rebinds(log))}");
        Line(Stats.Header);
        Line(Stats.Row("qemu platform: xenstore command -> result node", toResult));
        Line(Stats.Row("qemu platform: xenstore command -> /dev/pmemN in the guest", toGuest));
    }
    finally
    {
        if (!run.HasExited)
            run.Kill(entireProcessTree: true);
    }
}

async Task QemuPeer()
{
    var backings = opts.List("--backings");
    string ready = opts.Required("--ready");
    string console = opts.Required("--console-log");
    string qmpPath = opts.Required("--qmp");
    int timeout = int.Parse(opts.Get("--timeout") ?? "600", CultureInfo.InvariantCulture);
    var psi = new ProcessStartInfo(opts.Required("--harness")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (string a in new[] { "--qemu-nvdimm", ready, "--script", opts.Required("--script"), "--timeout", timeout.ToString(CultureInfo.InvariantCulture),
                 "--log", console, "--quiet", "--qemu-arg", "-qmp", "--qemu-arg", $"unix:{qmpPath},server=on,wait=off" })
        psi.ArgumentList.Add(a);
    using var guest = Process.Start(psi) ?? throw new BenchFailure("cannot start the guest harness");
    var stdout = guest.StandardOutput.ReadToEndAsync();
    var stderr = guest.StandardError.ReadToEndAsync();
    try
    {
        long boot = Stopwatch.GetTimestamp();
        await WaitUntil(() => Marker(ready, "XVND-READY") || guest.HasExited, "the guest to start (XVND-READY on /dev/pmem0)", timeout);
        if (guest.HasExited)
            throw new BenchFailure($"the guest exited early ({guest.ExitCode}): {Tail(await stderr)}{Tail(Read(console))}");
        double bootSeconds = Stopwatch.GetElapsedTime(boot).TotalSeconds;
        // the companion's own QMP client drives the peer: QMP is QEMU's protocol, not ours
        using var qmpDeadline = new CancellationTokenSource(TimeSpan.FromSeconds(timeout));
        await using var qmp = await QmpClient.ConnectAsync(qmpPath, TimeSpan.FromSeconds(30), qmpDeadline.Token);
        var toReturn = new List<double>();
        var toGuest = new List<double>();
        for (int i = 0; i < backings.Count; i++)
        {
            long size = new FileInfo(backings[i]).Length;
            long t0 = Stopwatch.GetTimestamp();
            await qmp.ExecuteAsync("object-add", qmpDeadline.Token, JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["qom-type"] = "memory-backend-file", ["id"] = $"hp{i}", ["mem-path"] = backings[i], ["size"] = size, ["share"] = true,
            }));
            await qmp.ExecuteAsync("device_add", qmpDeadline.Token, JsonSerializer.Serialize(new Dictionary<string, object> { ["driver"] = "nvdimm", ["id"] = $"hpd{i}", ["memdev"] = $"hp{i}" }));
            toReturn.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            string marker = $"XVND-SEEN-{i + 1}";
            await WaitUntil(() => Marker(backings[i], marker) || guest.HasExited, $"/dev/pmem{i + 1} in the guest ({marker} in {backings[i]})", 180, pollMs: 2);
            if (guest.HasExited)
                throw new BenchFailure($"the guest ended before /dev/pmem{i + 1} appeared: {Tail(Read(console))}");
            toGuest.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        if (!guest.WaitForExit(TimeSpan.FromSeconds(120)))
            throw new BenchFailure("the guest did not finish its script");
        await guest.WaitForExitAsync();
        if (guest.ExitCode != 0)
            throw new BenchFailure($"the guest exited {guest.ExitCode}: {Tail(await stderr)}{Tail(Read(console))}");
        Line($"QEMU -device nvdimm: guest up (XVND-READY) {bootSeconds:F1} s after QEMU started");
        Line(Stats.Header);
        Line(Stats.Row("peer: QEMU nvdimm, QMP object-add+device_add returned", toReturn));
        Line(Stats.Row("peer: QEMU nvdimm, QMP command -> /dev/pmemN in the guest", toGuest));
    }
    finally
    {
        if (!guest.HasExited)
            guest.Kill(entireProcessTree: true);
    }
}

static async Task<(double Ms, string Result)> TimedAdd(XenStoreClient client, XenStoreClient watcher, string b, string id, string spec, int seconds)
{
    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
    string command = $"{b}/command", result = $"{b}/result/{id}";
    // The companion empties the command node after each request: wait for it (not timed).
    while ((await client.TryReadStringAsync(command, cts.Token) ?? "").Trim().Length != 0)
        await Task.Delay(5, cts.Token);
    await using var w = await watcher.WatchAsync(result, cancellationToken: cts.Token);
    await w.Events.ReadAsync(cts.Token); // registration event
    if (await client.ExistsAsync(result, cts.Token))
        throw new BenchFailure($"request id {id} already has a result");
    long t0 = Stopwatch.GetTimestamp();
    await client.WriteAsync(command, $"{id} add {spec}", cts.Token);
    string? text;
    while ((text = await client.TryReadStringAsync(result, cts.Token)) is null)
        await w.WaitForAsync(e => e.Path == result, cts.Token);
    return (Stopwatch.GetElapsedTime(t0).TotalMilliseconds, text);
}

static int ParseSlot(string result, string id) =>
    result.StartsWith("ok slot=", StringComparison.Ordinal) && int.TryParse(result.AsSpan(8).Trim(), CultureInfo.InvariantCulture, out int slot)
        ? slot : throw new BenchFailure($"request {id}: {result}");

static async Task ReadEvent(XenStoreWatch w, Func<XenStoreWatchEvent, bool> match, int seconds)
{
    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
    await w.WaitForAsync(match, cts.Token);
}

static async Task WaitUntil(Func<bool> condition, string what, int seconds, int pollMs = 50)
{
    var deadline = Stopwatch.GetTimestamp() + seconds * Stopwatch.Frequency;
    while (!condition())
    {
        if (Stopwatch.GetTimestamp() > deadline)
            throw new BenchFailure($"timed out after {seconds} s waiting for {what}");
        await Task.Delay(pollMs);
    }
}

static bool Marker(string path, string marker)
{
    var want = Encoding.ASCII.GetBytes(marker);
    var got = new byte[want.Length];
    using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
    return f.Read(got) == got.Length && got.AsSpan().SequenceEqual(want);
}

static string Read(string path) => File.Exists(path) ? File.ReadAllText(path) : "";

static string Tail(string text)
{
    var lines = text.Split('\n');
    return "\n  " + string.Join("\n  ", lines.Skip(Math.Max(0, lines.Length - 15)));
}

static IEnumerable<string> Rebinds(string log) =>
    log.Split('\n').Where(l => l.StartsWith("BENCH-SEEN ", StringComparison.Ordinal)).Select(l => l.Split(' ').LastOrDefault(x => x.StartsWith("rebinds=", StringComparison.Ordinal))?[8..] ?? "?");

static async Task<(int Code, string Stdout, string Stderr)> RunProcess(string file, string[] arguments, (string Key, string Value) env, int seconds)
{
    var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (var a in arguments)
        psi.ArgumentList.Add(a);
    psi.Environment[env.Key] = env.Value;
    using var p = Process.Start(psi) ?? throw new BenchFailure($"cannot start {file}");
    var o = p.StandardOutput.ReadToEndAsync();
    var e = p.StandardError.ReadToEndAsync();
    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
    try
    {
        await p.WaitForExitAsync(cts.Token);
    }
    catch (OperationCanceledException)
    {
        p.Kill(entireProcessTree: true);
        throw new BenchFailure($"{file} {string.Join(' ', arguments)} did not finish within {seconds} s");
    }
    return (p.ExitCode, await o, await e);
}

/// <summary>A benchmark step that cannot produce a number: the run fails with this reason.</summary>
internal sealed class BenchFailure(string message) : Exception(message);

/// <summary>Mode and options of one run.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> _values = [];

    /// <summary>sim, guest or qemu.</summary>
    public string Mode { get; private init; } = "";

    /// <summary>Parses MODE --key value ...</summary>
    public static Options Parse(string[] args)
    {
        if (args.Length == 0 || args.Length % 2 != 1)
            throw new ArgumentException("usage: hotadd-bench sim|guest|qemu --key value ...");
        var o = new Options { Mode = args[0] };
        for (int i = 1; i < args.Length; i += 2)
            o._values[args[i]] = args[i + 1];
        return o;
    }

    /// <summary>An option's value, or null.</summary>
    public string? Get(string key) => _values.GetValueOrDefault(key);

    /// <summary>An option's value; missing is a usage error.</summary>
    public string Required(string key) => Get(key) ?? throw new BenchFailure($"{key} is required");

    /// <summary>A comma-separated list option (empty when absent).</summary>
    public List<string> List(string key) => (Get(key) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).ToList();
}

/// <summary>Milliseconds: n, min, median, mean, p90, max, standard deviation.</summary>
internal static class Stats
{
    /// <summary>Column heads matching <see cref="Row"/>.</summary>
    public static string Header =>
        $"{"measurement (ms)",-62} {"n",4} {"min",9} {"median",9} {"mean",9} {"p90",9} {"max",9} {"stddev",9}";

    /// <summary>One table row.</summary>
    public static string Row(string name, List<double> ms)
    {
        if (ms.Count == 0)
            throw new BenchFailure($"{name}: no samples");
        var s = ms.OrderBy(x => x).ToList();
        double mean = s.Average();
        double sd = Math.Sqrt(s.Sum(x => (x - mean) * (x - mean)) / Math.Max(1, s.Count - 1));
        double p90 = s[Math.Min(s.Count - 1, (int)Math.Ceiling(s.Count * 0.9) - 1)];
        return string.Create(CultureInfo.InvariantCulture,
            $"{name,-62} {s.Count,4} {s[0],9:F2} {Median(s),9:F2} {mean,9:F2} {p90,9:F2} {s[^1],9:F2} {sd,9:F2}");
    }

    /// <summary>The median.</summary>
    public static double Median(List<double> ms)
    {
        var s = ms.OrderBy(x => x).ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}

