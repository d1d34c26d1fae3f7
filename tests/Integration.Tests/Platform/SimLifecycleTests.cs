using XenVnvdimm.XenStore.Client;

using static XenVnvdimm.Tests.Integration.CompanionProcess;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// <c>run --platform sim</c> end to end as a process: staged start-up against the simulated
/// hypervisor with real files resolved by FIEMAP (--assume-spa-base), state in the embedded
/// xenstored (read back with Debian's xenstore-* tools), a hot-add, and exit when the domain
/// is released (@releaseDomain), leaving the simulated p2m empty but for the mailbox page.
/// </summary>
public class SimLifecycleTests
{
    [Fact]
    public async Task StartsServesHotAddsAndExitsWhenTheDomainIsReleased()
    {
        using var d = new TempDir();
        string a = Filled(d, "a.img", 32 << 20), c = Filled(d, "c.img", 16 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\n");
        string sock = d.File("xs.sock");
        using var xenstored = Start(null, "xenstored", "--socket", sock);
        try
        {
            await WaitFor(() => File.Exists(sock), "xenstored");
            await using (var admin = await XenStoreClient.ConnectAsync(sock))
                await admin.ControlAsync("introduce", ["9"]);

            using var run = Start(sock, "run", "--platform", "sim", "--domid", "9", "--config", d.File("vm.cfg"), "--assume-spa-base", "0x100000000", "-v");
            var stderr = run.StandardError.ReadToEndAsync();
            string b = "/local/domain/0/device-model/9/vnvdimm";
            await WaitFor(() => Read(sock, $"{b}/state") == "running" || run.HasExited, "state=running");
            if (run.HasExited)
                Assert.Fail(await stderr);
            Assert.Equal(run.Id.ToString(), Read(sock, $"{b}/pid"));
            Assert.Equal("0x100000000", Read(sock, $"{b}/devices/0/gpa"));
            Assert.Equal((32 << 20).ToString(), Read(sock, $"{b}/devices/0/size"));
            // xenstore-ls -p prints every node with its permissions: the command node is dom0-only.
            var ls = ProcessRunner.Run("xenstore-ls", ["-p", b], env: ("XENSTORED_PATH", sock));
            Assert.Matches("(?m)^command = \"\"[ .]*\\(n0\\)$", ls.Stdout);

            var add = ProcessRunner.Run("dotnet", [Dll, "hot-add", "--domid", "9", $"backend={c}, label_size=0"], env: ("XENSTORED_PATH", sock));
            Assert.True(add.ExitCode == 0, add.ToString());
            Assert.Equal("ok slot=1", add.Stdout.Trim());
            Assert.Equal("0x102000000", Read(sock, $"{b}/devices/1/gpa"));

            await using (var admin = await XenStoreClient.ConnectAsync(sock))
                await admin.ControlAsync("release", ["9"]);
            Assert.True(run.WaitForExit(30_000), "the companion did not exit after @releaseDomain");
            string log = await stderr;
            Assert.True(run.ExitCode == 0, log);
            Assert.Equal("stopping", Read(sock, $"{b}/state"));
            Assert.Contains("was released: tearing down", log);
            Assert.Contains("mapped 8192 pages", log);
            Assert.Contains("p2m holds 1 mapped frames in 1 ranges", log); // only the mailbox page
        }
        finally
        {
            if (!xenstored.HasExited) xenstored.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task AFailedStartIsPublishedAsErrorWithTheReason()
    {
        using var d = new TempDir();
        string a = d.File("hole.img");
        using (var f = File.Create(a)) f.SetLength(4 << 20); // sparse: a hole Xen must never map
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\n");
        string sock = d.File("xs.sock");
        using var xenstored = Start(null, "xenstored", "--socket", sock);
        try
        {
            await WaitFor(() => File.Exists(sock), "xenstored");
            var r = ProcessRunner.Run("dotnet", [Dll, "run", "--platform", "sim", "--domid", "4", "--config", d.File("vm.cfg"), "--assume-spa-base", "0x100000000"],
                env: ("XENSTORED_PATH", sock));
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("hole", r.Stderr);
            Assert.Equal("error", Read(sock, "/local/domain/0/device-model/4/vnvdimm/state"));
            Assert.Contains("hole", Read(sock, "/local/domain/0/device-model/4/vnvdimm/error"));
        }
        finally
        {
            if (!xenstored.HasExited) xenstored.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task ASecondCompanionAndOneAfterACrashAreRefused()
    {
        using var d = new TempDir();
        string a = Filled(d, "a.img", 8 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\n");
        string sock = d.File("xs.sock");
        using var xenstored = Start(null, "xenstored", "--socket", sock);
        try
        {
            await WaitFor(() => File.Exists(sock), "xenstored");
            string[] args = [Dll, "run", "--platform", "sim", "--domid", "3", "--config", d.File("vm.cfg"), "--assume-spa-base", "0x100000000"];
            using var first = Start(sock, args[1..]);
            await WaitFor(() => Read(sock, "/local/domain/0/device-model/3/vnvdimm/state") == "running" || first.HasExited, "first companion");
            Assert.False(first.HasExited);

            var second = ProcessRunner.Run("dotnet", args, env: ("XENSTORED_PATH", sock));
            Assert.Equal(2, second.ExitCode);
            Assert.Contains($"domain 3 is already served by a running companion (pid={first.Id}, platform=sim", second.Stderr);
            Assert.Equal("running", Read(sock, "/local/domain/0/device-model/3/vnvdimm/state")); // untouched

            first.Kill(); // SIGKILL: no cleanup
            first.WaitForExit();
            var third = ProcessRunner.Run("dotnet", args, env: ("XENSTORED_PATH", sock));
            Assert.Equal(2, third.ExitCode);
            Assert.Contains($"a previous companion for domain 3 (pid={first.Id}, platform=sim", third.Stderr);
            Assert.Contains("ended without cleaning up", third.Stderr);
        }
        finally
        {
            if (!xenstored.HasExited) xenstored.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task ARestrictedCompanionServesButRefusesHotAdd()
    {
        using var d = new TempDir();
        string a = Filled(d, "a.img", 8 << 20), c = Filled(d, "c.img", 8 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\n");
        string sock = d.File("xs.sock");
        using var xenstored = Start(null, "xenstored", "--socket", sock);
        try
        {
            await WaitFor(() => File.Exists(sock), "xenstored");
            using var run = Start(sock, "run", "--platform", "sim", "--domid", "6", "--config", d.File("vm.cfg"), "--assume-spa-base", "0x100000000", "--restrict");
            await WaitFor(() => Read(sock, "/local/domain/0/device-model/6/vnvdimm/state") == "running" || run.HasExited, "restricted companion");
            Assert.False(run.HasExited);
            var add = ProcessRunner.Run("dotnet", [Dll, "hot-add", "--domid", "6", $"backend={c}"], env: ("XENSTORED_PATH", sock));
            Assert.Equal(1, add.ExitCode);
            Assert.Contains("runs with --restrict", add.Stdout);
            run.Kill();
        }
        finally
        {
            if (!xenstored.HasExited) xenstored.Kill(entireProcessTree: true);
        }
    }

    private static string Filled(TempDir d, string name, int size)
    {
        string path = d.File(name);
        var bytes = new byte[size];
        Random.Shared.NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        using var f = new FileStream(path, FileMode.Open);
        f.Flush(flushToDisk: true);
        return path;
    }

    private static string Read(string sock, string path) =>
        ProcessRunner.Run("xenstore-read", [path], env: ("XENSTORED_PATH", sock)).Stdout.Trim();



}
