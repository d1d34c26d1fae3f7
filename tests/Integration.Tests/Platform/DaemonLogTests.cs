using System.Text.RegularExpressions;
using XenVnvdimm.XenStore.Client;
using static XenVnvdimm.Tests.Integration.CompanionProcess;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// <c>run</c> is a daemon: with no -v it logs at Information, so its start, its devices, each
/// hot-add with its result and its stop with the reason appear, each line with an ISO 8601 UTC
/// timestamp and without event ids, and the uncached-mapping warning once; debug lines do not.
/// </summary>
public class DaemonLogTests
{
    private const string Iso = @"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z";

    [Fact]
    public async Task RunLogsStartHotAddAndStopAtTheDefaultLevel()
    {
        using var d = new TempDir();
        string a = d.Filled("a.img", 8 << 20), c = d.Filled("c.img", 8 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\n");
        string sock = d.File("xs.sock"), b = "/local/domain/0/device-model/212/vnvdimm";
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        await using (var admin = await XenStoreClient.ConnectAsync(sock))
            await admin.ControlAsync("introduce", ["212"]);

        using var run = Start(sock, "run", "--platform", "sim", "--domid", "212", "--config", d.File("vm.cfg"), "--assume-spa-base", "0x100000000");
        var stderr = run.StandardError.ReadToEndAsync();
        await WaitFor(() => Read(sock, $"{b}/state") == "running" || run.HasExited, "state=running");
        if (run.HasExited)
            Assert.Fail(await stderr);
        var add = ProcessRunner.Run("dotnet", [Dll, "hot-add", "--domid", "212", "--request-id", "log1", $"backend={c}, label_size=0"], env: ("XENSTORED_PATH", sock));
        Assert.True(add.ExitCode == 0, add.ToString());
        await using (var admin = await XenStoreClient.ConnectAsync(sock))
            await admin.ControlAsync("release", ["212"]);
        Assert.True(run.WaitForExit(30_000), "the companion did not exit after @releaseDomain");
        string log = await stderr;
        Assert.True(run.ExitCode == 0, log);

        AssertLine($@"(?m)^{Iso} info: \S+: serving dom212: 1 vNVDIMMs", log);
        AssertLine($@"(?m)^{Iso} info: \S+: dom212: mapped 2048 pages", log);
        // Stock Xen's uncached mapping is said once, at warning level.
        Assert.Single(Regex.Matches(log, $@"(?m)^{Iso} warn: .*UNCACHED"));
        AssertLine($@"(?m)^{Iso} info: \S+: dom212: hot-added slot 1: {Regex.Escape(c)}", log);
        AssertLine($@"(?m)^{Iso} info: \S+: request log1: ok slot=1", log);
        AssertLine($@"(?m)^{Iso} info: \S+: dom212 was released: tearing down", log);
        Assert.DoesNotContain(" dbug: ", log);
        // No event ids: Microsoft's console format put "[0]" right after the category.
        Assert.DoesNotMatch(@"(?m)^\S+ \w+: [^:\s]+\[\d+\]", log);
        Assert.All(log.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => Assert.Matches($"^{Iso} (info|warn|fail|crit): ", l));
    }

    private static void AssertLine(string pattern, string log) =>
        Assert.True(Regex.IsMatch(log, pattern), $"no line matches {pattern} in:\n{log}");

    private static string Read(string sock, string path) =>
        ProcessRunner.Run("xenstore-read", [path], env: ("XENSTORED_PATH", sock)).Stdout.Trim();
}
