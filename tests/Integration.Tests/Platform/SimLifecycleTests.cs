using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Xen.Abi;
using XenVnvdimm.DeviceModel.Xen.Sim;
using XenVnvdimm.XenStore.Client;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

using static XenVnvdimm.Tests.Integration.CompanionProcess;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// <c>run --platform sim</c> end to end as a process: staged start-up against the simulated
/// hypervisor with real files resolved by FIEMAP (--assume-spa-base), state in the embedded
/// xenstored (read back with Debian's xenstore-* tools), a hot-add, and exit when the domain
/// is released (@releaseDomain), leaving no domain, record or companion nodes behind; on SIGTERM
/// the guest keeps its pmem for a new run to re-attach to. The persisted simulated domain (see
/// SimPersistence) is read back to see what each stop left.
/// </summary>
public class SimLifecycleTests
{
    [Fact]
    public async Task StartsServesHotAddsAndExitsWhenTheDomainIsReleased()
    {
        using var d = new TempDir();
        string a = d.Filled("a.img", 32 << 20), c = d.Filled("c.img", 16 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\n");
        string sock = d.File("xs.sock");
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
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
        Assert.NotEqual(0, ProcessRunner.Run("xenstore-exists", [b], env: ("XENSTORED_PATH", sock)).ExitCode);
        Assert.Contains("was released: tearing down", log);
        Assert.Contains("mapped 8192 pages", log);
        // Released: the domain is destroyed (by Xen; here by the simulator) before teardown, which then makes
        // no hypercall for it.
        Assert.Contains("dom9 is gone: Xen dropped its mappings", log);
        // The released domain is gone from the simulator, persisted state and all.
        Assert.Null(SimState.Hypervisor(9));
    }

    [Fact]
    public async Task AFailedStartIsPublishedAsErrorWithTheReason()
    {
        using var d = new TempDir();
        string a = d.File("hole.img");
        using (var f = File.Create(a)) f.SetLength(4 << 20); // sparse: a hole Xen must never map
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\n");
        string sock = d.File("xs.sock");
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        var r = ProcessRunner.Run("dotnet", [Dll, "run", "--platform", "sim", "--domid", "4", "--config", d.File("vm.cfg"), "--assume-spa-base", "0x100000000"],
            env: ("XENSTORED_PATH", sock));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("hole", r.Stderr);
        Assert.Equal("error", Read(sock, "/local/domain/0/device-model/4/vnvdimm/state"));
        Assert.Contains("hole", Read(sock, "/local/domain/0/device-model/4/vnvdimm/error"));
    }

    [Fact]
    public async Task SigtermKeepsTheGuestsPmemAndANewRunReattachesWithoutMapping()
    {
        const ushort domid = 32;
        using var d = new TempDir();
        string a = d.Filled("a.img", 16 << 20), c = d.Filled("c.img", 8 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\n");
        string sock = d.File("xs.sock"), b = $"/local/domain/0/device-model/{domid}/vnvdimm";
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        await using var xs = await XenStoreClient.ConnectAsync(sock);
        await xs.ControlAsync("introduce", [$"{domid}"]);
        using var run = Start(sock, "run", "--platform", "sim", "--domid", $"{domid}", "--config", d.File("vm.cfg"), "--assume-spa-base", "0x100000000", "-v");
        var stderr = run.StandardError.ReadToEndAsync();
        await WaitFor(() => Read(sock, $"{b}/state") == "running" || run.HasExited, "state=running");
        if (run.HasExited)
            Assert.Fail(await stderr);
        var add = ProcessRunner.Run("dotnet", [Dll, "hot-add", "--domid", $"{domid}", $"backend={c}, label_size=0"], env: ("XENSTORED_PATH", sock));
        Assert.True(add.ExitCode == 0, add.ToString());

        // Serving: both devices' frames, the mailbox page and the ioreq server are in the simulated domain.
        var serving = SimState.Domain(domid);
        Assert.Equal((24UL << 20) >> 12, serving.P2m.Where(e => e.Type is P2mType.MmioDirect or P2mType.Pmem).Aggregate(0UL, (n, e) => n + e.Count));
        Assert.Equal(0xFE000UL, Assert.Single(serving.Ram).Gfn);
        Assert.Single(serving.IoreqServers);
        Assert.NotEmpty(serving.Iomem);

        Assert.Equal(0, ProcessRunner.Run("kill", ["-TERM", $"{run.Id}"]).ExitCode);
        Assert.True(run.WaitForExit(60_000), "the companion did not exit after SIGTERM");
        string log = await stderr;
        Assert.True(run.ExitCode == 0, log);

        // SIGTERM is not the domain's death: the guest keeps every frame, its mailbox page and iomem
        // permissions; only the doorbell was released. The record stays for a successor.
        var stopped = SimState.Domain(domid);
        Assert.Equal(serving.P2m, stopped.P2m);
        Assert.Equal(serving.Iomem, stopped.Iomem);
        Assert.Equal(0xFE000UL, Assert.Single(stopped.Ram).Gfn);
        Assert.Empty(stopped.IoreqServers);
        var record = CompanionRecord.TryParse(File.ReadAllText(SimState.StateFile(domid)));
        Assert.Equal(CompanionRecord.Stopped, record!.Phase);
        Assert.Null(record.IoreqServer);
        Assert.Equal("stopped", Read(sock, $"{b}/state"));
        Assert.Equal(c, Read(sock, $"{b}/devices/1/backend"));
        Assert.Contains("stopping on SIGTERM: the guest keeps its pmem", log);
        // Its claims and pins stay too: no other guest may take these frames, no one may move the files' blocks.
        string claims = Path.Combine(SimState.Directory, "claims");
        Assert.Equal([$"d{domid}.s0.claim", $"d{domid}.s1.claim"], Directory.GetFiles(claims, $"d{domid}.*").Select(Path.GetFileName).Order());
        Assert.True(Immutable(a) && Immutable(c), "SIGTERM unpinned a backing of a live guest");

        // A new run re-attaches to both devices without a single mapping hypercall and serves again.
        using var second = await SimCompanion.StartAsync(d.File("vm.cfg"), domid, sock);
        var n = second.Sim.Counters;
        Assert.Equal(0, n["memory_op:populate_physmap"]);
        Assert.Equal(0, n["domctl:memory_mapping"]);
        Assert.Equal(0, n["domctl:iomem_permission"]);
        Assert.Equal(0, n[$"dm_op:{DmOpConstants.XEN_DMOP_destroy_ioreq_server}"]); // nothing dead to destroy
        Assert.Equal(2, second.Companion.Layout!.Devices.Count);
        Assert.Equal("running", await xs.ReadStringAsync($"{b}/state"));
        Assert.Equal(128u * 1024, BitConverter.ToUInt32(second.Mailbox.Call(P.CommandLabelInfo, 1, 0, P.FamilyIntel, []), 4));

        // Only the domain's release takes everything away.
        await second.ReleaseAndAssertNothingLeftAsync(xs);
        Assert.Empty(Directory.GetFiles(claims, $"d{domid}.*"));
        Assert.False(Immutable(a) || Immutable(c), "a backing stayed immutable after its domain was released");
    }

    private static bool Immutable(string path) => ProcessRunner.Run("lsattr", ["-d", path]).Stdout.Split(' ')[0].Contains('i');

    [Fact]
    public async Task ASecondCompanionIsRefused()
    {
        using var d = new TempDir();
        string a = d.Filled("a.img", 8 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\n");
        string sock = d.File("xs.sock");
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        string[] args = [Dll, "run", "--platform", "sim", "--domid", "3", "--config", d.File("vm.cfg"), "--assume-spa-base", "0x100000000"];
        using var first = Start(sock, args[1..]);
        await WaitFor(() => Read(sock, "/local/domain/0/device-model/3/vnvdimm/state") == "running" || first.HasExited, "first companion");
        Assert.False(first.HasExited);

        var second = ProcessRunner.Run("dotnet", args, env: ("XENSTORED_PATH", sock));
        Assert.Equal(2, second.ExitCode);
        Assert.Contains($"domain 3 is already served by a running companion (pid={first.Id}, platform=sim", second.Stderr);
        Assert.Equal("running", Read(sock, "/local/domain/0/device-model/3/vnvdimm/state")); // untouched
        Assert.Equal(first.Id.ToString(), Read(sock, "/local/domain/0/device-model/3/vnvdimm/pid"));
        Assert.Equal(0, ProcessRunner.Run("kill", ["-TERM", $"{first.Id}"]).ExitCode);
        Assert.True(first.WaitForExit(60_000), "the first companion did not stop on SIGTERM");
        // SIGTERM left the guest its pmem, so its claim and pin stay until the domain is destroyed.
        SimState.DestroyDomainAndGc(3);
    }

    [Fact]
    public async Task ARestrictedCompanionServesButRefusesHotAdd()
    {
        using var d = new TempDir();
        string a = d.Filled("a.img", 8 << 20), c = d.Filled("c.img", 8 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\n");
        string sock = d.File("xs.sock");
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        using var run = Start(sock, "run", "--platform", "sim", "--domid", "6", "--config", d.File("vm.cfg"), "--assume-spa-base", "0x100000000", "--restrict");
        await WaitFor(() => Read(sock, "/local/domain/0/device-model/6/vnvdimm/state") == "running" || run.HasExited, "restricted companion");
        Assert.False(run.HasExited);
        var add = ProcessRunner.Run("dotnet", [Dll, "hot-add", "--domid", "6", $"backend={c}"], env: ("XENSTORED_PATH", sock));
        Assert.Equal(1, add.ExitCode);
        Assert.Contains("runs with --restrict", add.Stdout);
        run.Kill();
        run.WaitForExit();
        // A restricted companion's frames stay in the guest, and so do its claim and pin until the domain goes.
        SimState.DestroyDomainAndGc(6);
    }

    private static string Read(string sock, string path) =>
        ProcessRunner.Run("xenstore-read", [path], env: ("XENSTORED_PATH", sock)).Stdout.Trim();
}
