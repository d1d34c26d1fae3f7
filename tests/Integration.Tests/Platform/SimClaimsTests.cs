using XenVnvdimm.XenStore.Client;
using static XenVnvdimm.Tests.Integration.CompanionProcess;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// Pins and host-wide claims end to end, companions as processes on the simulated hypervisor with
/// real ext4 files: a mapped file is immutable (the host's truncate fails), its frames cannot be
/// hot-added again under another name or mapped into another domain, even after its companion is
/// killed; once the domain is released or destroyed the pin, the claims and the files are gone.
/// </summary>
public class SimClaimsTests
{
    private static string Claims => Path.Combine(SimState.Directory, "claims");

    private static string Read(string sock, string path) =>
        ProcessRunner.Run("xenstore-read", [path], env: ("XENSTORED_PATH", sock)).Stdout.Trim();

    private static bool Immutable(string path) => ProcessRunner.Run("lsattr", ["-d", path]).Stdout.Split(' ')[0].Contains('i');

    [Fact]
    public async Task AMappedFileIsPinnedAndClaimedUntilTheDomainIsReleased()
    {
        const ushort domid = 241;
        using var d = new TempDir();
        string a = d.Filled("a.img", 8 << 20), c = d.Filled("c.img", 8 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\n");
        string sock = d.File("xs.sock"), b = $"/local/domain/0/device-model/{domid}/vnvdimm";
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        await using (var admin = await XenStoreClient.ConnectAsync(sock))
            await admin.ControlAsync("introduce", [$"{domid}"]);
        using var run = Start(sock, "run", "--platform", "sim", "--domid", $"{domid}", "--config", d.File("vm.cfg"), "--assume-spa-base", "0x100000000", "-v");
        var stderr = run.StandardError.ReadToEndAsync();
        await WaitFor(() => Read(sock, $"{b}/state") == "running" || run.HasExited, "state=running");
        if (run.HasExited)
            Assert.Fail(await stderr);

        Assert.True(File.Exists(Path.Combine(Claims, $"d{domid}.s0.claim")));
        Assert.True(Immutable(a));
        var truncate = ProcessRunner.Run("truncate", ["-s", "0", a]);
        Assert.NotEqual(0, truncate.ExitCode);
        Assert.Contains("Operation not permitted", truncate.Stderr);
        Assert.Equal(8 << 20, new FileInfo(a).Length);

        // The same frames under another name (a symlinked directory; a hard link to an immutable file
        // cannot be made): refused, naming the holder; the guest keeps one device.
        string alias = d.Path + "-alias";
        File.CreateSymbolicLink(alias, d.Path);
        var again = ProcessRunner.Run("dotnet", [Dll, "hot-add", "--domid", $"{domid}", $"backend={alias}/a.img, label_size=0"], env: ("XENSTORED_PATH", sock));
        File.Delete(alias);
        Assert.NotEqual(0, again.ExitCode);
        Assert.True(again.Stdout.Contains($"are mapped into dom{domid} slot 0 (backend {a})"), again.ToString());
        Assert.False(File.Exists(Path.Combine(Claims, $"d{domid}.s1.claim")));

        var add = ProcessRunner.Run("dotnet", [Dll, "hot-add", "--domid", $"{domid}", $"backend={c}, label_size=0"], env: ("XENSTORED_PATH", sock));
        Assert.Equal("ok slot=1", add.Stdout.Trim());
        Assert.True(File.Exists(Path.Combine(Claims, $"d{domid}.s1.claim")));
        Assert.True(Immutable(c));

        await using (var admin = await XenStoreClient.ConnectAsync(sock))
            await admin.ControlAsync("release", [$"{domid}"]);
        Assert.True(run.WaitForExit(60_000), "the companion did not exit after @releaseDomain");
        Assert.True(run.ExitCode == 0, await stderr);
        Assert.Empty(Directory.GetFiles(Claims, $"d{domid}.*"));
        Assert.False(Immutable(a));
        Assert.False(Immutable(c));
        Assert.False(File.Exists(SimState.StateFile(domid)));
        Assert.Null(SimState.Hypervisor(domid));
    }

    [Fact]
    public async Task AfterKill9TheFramesStayClaimedFromASecondDomainUntilGcSeesTheDomainGone()
    {
        const ushort domid = 243, other = 244;
        using var d = new TempDir();
        string a = d.Filled("a.img", 8 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\n");
        string sock = d.File("xs.sock");
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        using var first = Start(sock, "run", "--platform", "sim", "--domid", $"{domid}", "--config", d.File("vm.cfg"), "--assume-spa-base", "0x100000000");
        await WaitFor(() => Read(sock, $"/local/domain/0/device-model/{domid}/vnvdimm/state") == "running" || first.HasExited, "first companion");
        Assert.False(first.HasExited);
        first.Kill(); // SIGKILL: its lock on the file dies with it, its claim and pin do not
        first.WaitForExit();

        var second = ProcessRunner.Run("dotnet", [Dll, "run", "--platform", "sim", "--domid", $"{other}", "--config", d.File("vm.cfg"), "--assume-spa-base", "0x100000000"], env: ("XENSTORED_PATH", sock));
        Assert.Equal(2, second.ExitCode);
        Assert.Contains($"are mapped into dom{domid} slot 0 (backend {a}); refusing to map them into dom{other} slot 0", second.Stderr);
        Assert.Empty(Directory.GetFiles(Claims, $"d{other}.*"));

        // gc keeps the claim of a domain that still exists.
        var gc = ProcessRunner.Run("dotnet", [Dll, "gc", "--platform", "sim"]);
        Assert.Equal(0, gc.ExitCode);
        Assert.Contains($"kept dom{domid} slot 0 (backend {a})", gc.Stdout);
        Assert.True(Immutable(a));

        SimState.DestroyDomainAndGc(domid);
        Assert.Empty(Directory.GetFiles(Claims, $"d{domid}.*"));
        Assert.False(Immutable(a));
    }
}
