using System.Text;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Xen.Sim;
using XenVnvdimm.Tests.Backing.Support;
using XenVnvdimm.XenStore;
using XenVnvdimm.XenStore.Client;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// The rule, tried the hard way on the simulated hypervisor with backings on real loop-mounted ext4 and
/// XFS: frames leave a live guest only when the guest is gone. A thousand hostile or garbage hot-add
/// commands are each answered and change nothing; a killed and restarted xenstored is reconnected to;
/// a doorbell whose event channel fails is reported and restarted. Throughout, the guest's devices,
/// p2m (read from the simulator) and FIT (read through its own doorbell) stay exactly as they were.
/// </summary>
public class SimContainmentTests
{
    private const string Base = "/local/domain/0/device-model/{0}/vnvdimm";

    [Theory]
    [InlineData("ext4", 141)]
    [InlineData("xfs", 142)]
    public async Task AThousandHostileHotAddsAreEachAnsweredAndChangeNothing(string fs, ushort domid)
    {
        using var loop = new LoopFilesystem(fs, 320); // mkfs.xfs wants more than 300 MB
        using var d = new TempDir();
        string a = loop.PathOf("a.img");
        FileMaker.Write(a, 16 << 20);
        string dir = loop.PathOf("dir");
        Directory.CreateDirectory(dir);
        string sparse = loop.PathOf("sparse.img");
        using (var f = File.Create(sparse)) f.SetLength(8 << 20);
        string unwritten = loop.PathOf("unwritten.img");
        Shell.Run("fallocate", "-l", "8M", unwritten);
        string hardlink = loop.PathOf("a-link.img");
        Shell.Run("ln", a, hardlink);
        string symlink = loop.PathOf("a-sym.img");
        File.CreateSymbolicLink(symlink, a);
        string small = loop.PathOf("small.img");
        FileMaker.Write(small, 12 << 10);
        string labelTrap = d.File("must-not-exist.label");
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\nvnvdimm_slots = 4\n");

        string sock = d.File("xs.sock"), b = string.Format(Base, domid);
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        using var companion = await SimCompanion.StartAsync(d.File("vm.cfg"), domid, sock, SimCompanion.OwnDeviceSpaBase(domid));
        await using var xs = await XenStoreClient.ConnectAsync(sock);
        var before = Snapshot(companion);
        var devicesBefore = (await xs.ListAsync($"{b}/devices")).Order().ToArray();

        var commands = HostileCommands(a, dir, sparse, unwritten, hardlink, symlink, small, labelTrap).ToList();
        Assert.True(commands.Count >= 1000, $"only {commands.Count} commands");
        int answered = 0, unusable = 0;
        for (int i = 0; i < commands.Count; i++)
        {
            string text = commands[i];
            var parsed = HotAddCommand.Parse(text);
            // A command without a usable id is answered at the fixed result/@invalid: cleared before each.
            string resultPath = parsed is null ? XenStoreLayout.InvalidIdResult(domid) : XenStoreLayout.Result(domid, parsed.RequestId);
            if (parsed is null)
                await xs.RemoveAsync(resultPath);
            await xs.WriteAsync(XenStoreLayout.Command(domid), text);
            await WaitUntil(async () => (await xs.TryReadStringAsync(XenStoreLayout.Command(domid)) ?? "") != text
                && await xs.ExistsAsync(resultPath), $"command {i} '{Cut(text)}' answered");
            string result = await xs.ReadStringAsync(resultPath);
            if (parsed is null)
            {
                Assert.True(result.StartsWith("error: no usable request id", StringComparison.Ordinal), $"command {i} '{Cut(text)}' was answered '{Cut(result)}'");
                Assert.True(Encoding.UTF8.GetByteCount(result) < 4096, $"command {i}: a {result.Length}-character answer");
                unusable++;
                continue;
            }
            Assert.True(result.StartsWith("error: ", StringComparison.Ordinal), $"command {i} '{Cut(text)}' was answered '{Cut(result)}'");
            Assert.True(Encoding.UTF8.GetByteCount(result) < 4096, $"command {i}: a {result.Length}-character answer");
            answered++;
            if (i % 100 == 0)
                Assert.Equal(before, Snapshot(companion));
        }

        // Nothing changed: devices, p2m, FIT, state; no label file was written for a refused device.
        Assert.Equal(before, Snapshot(companion));
        Assert.Equal(devicesBefore, (await xs.ListAsync($"{b}/devices")).Order().ToArray());
        Assert.Equal("running", await xs.ReadStringAsync($"{b}/state"));
        Assert.False(File.Exists(labelTrap), "a refused hot-add wrote its label file");
        Assert.False(companion.Run.IsCompleted, "the companion stopped serving");
        Assert.True(answered + unusable == commands.Count && answered > 500 && unusable > 100, $"answered {answered}, unusable ids {unusable} of {commands.Count}");

        // And it still serves: a good hot-add of a fresh file lands in slot 1.
        string good = loop.PathOf("good.img");
        FileMaker.Write(good, 8 << 20);
        await xs.WriteAsync(XenStoreLayout.Command(domid), $"good add backend={good}, label_size=0");
        await WaitUntil(async () => await xs.ExistsAsync(XenStoreLayout.Result(domid, "good")), "the good hot-add answered");
        Assert.Equal("ok slot=1", await xs.ReadStringAsync(XenStoreLayout.Result(domid, "good")));
        Assert.NotEqual(before.Fit, Convert.ToHexString(companion.Mailbox.ReadFit()));
        await companion.ReleaseAndAssertNothingLeftAsync(xs);
    }

    [Fact]
    public async Task AKilledXenstoredIsReconnectedToWhileTheGuestKeepsItsPmem()
    {
        const ushort domid = 143;
        using var d = new TempDir();
        string a = d.Filled("a.img", 16 << 20), c = d.Filled("c.img", 8 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\n");
        string sock = d.File("xs.sock"), b = string.Format(Base, domid);
        var xenstored = await EmbeddedXenstored.StartAsync(sock);
        SimCompanion? companion = null;
        try
        {
            companion = await SimCompanion.StartAsync(d.File("vm.cfg"), domid, sock);
            var before = Snapshot(companion);

            // xenstored dies: the guest keeps its pmem and its DSM calls are still answered.
            xenstored.Dispose();
            File.Delete(sock);
            await Task.Delay(500);
            Assert.False(companion.Run.IsCompleted, "the companion stopped when xenstored died");
            Assert.Equal(before, Snapshot(companion));

            // A new xenstored (empty, as after a restart): the companion reconnects and publishes itself again.
            xenstored = await EmbeddedXenstored.StartAsync(sock);
            await using var xs = await XenStoreClient.ConnectAsync(sock);
            await WaitUntil(async () => await xs.TryReadStringAsync($"{b}/state") == "running", "state=running republished", TimeSpan.FromSeconds(60));
            Assert.Equal(a, await xs.ReadStringAsync($"{b}/devices/0/backend"));
            var perms = await xs.GetPermissionsAsync(XenStoreLayout.Command(domid));
            Assert.Equal(0u, perms.Owner);
            Assert.Equal(XenStoreAccess.None, perms.AccessOf(domid));
            Assert.Equal(before, Snapshot(companion));

            // Commands work again on the new connection.
            await xs.WriteAsync(XenStoreLayout.Command(domid), $"r1 add backend={c}, label_size=0");
            await WaitUntil(async () => await xs.ExistsAsync(XenStoreLayout.Result(domid, "r1")), "hot-add after the reconnect");
            Assert.Equal("ok slot=1", await xs.ReadStringAsync(XenStoreLayout.Result(domid, "r1")));
            Assert.Equal(0, await companion.StopAsync());
            // Stopped, the guest keeps its pmem, claims and pins until the domain is destroyed.
            SimState.DestroyDomainAndGc(domid);
        }
        finally
        {
            companion?.Dispose();
            xenstored.Dispose();
        }
    }

    [Fact]
    public async Task ADoorbellFaultIsPublishedAndTheDoorbellRestarted()
    {
        const ushort domid = 144;
        using var d = new TempDir();
        string a = d.Filled("a.img", 16 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\n");
        string sock = d.File("xs.sock"), b = string.Format(Base, domid);
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        using var companion = await SimCompanion.StartAsync(d.File("vm.cfg"), domid, sock);
        await using var xs = await XenStoreClient.ConnectAsync(sock);
        var before = Snapshot(companion);
        ushort firstServer = Assert.Single(companion.Domain.IoreqServers).Key;

        // The event channel fails the notification of the next answer: the ioreq loop stops with EIO.
        companion.Sim.Events.FailNotifies(1);
        var vcpu = companion.Sim.Vcpu(companion.Domain, 0);
        vcpu.Timeout = TimeSpan.FromSeconds(2);
        // That ring's answer is written but never notified: the vCPU finds it when its wait ends, or gives up,
        // or its wait ends with the destroyed server; it must not hang or crash.
        var ring = Record.Exception(() => vcpu.Out(0x0A18, 1, 1));
        Assert.True(ring is null or TimeoutException || (ring is InvalidOperationException && ring.Message.Contains("destroyed")), $"the ring ended with {ring}");

        await WaitUntil(async () => await xs.TryReadStringAsync($"{b}/faults") == "1", "the fault published");
        Assert.Contains("doorbell fault", await xs.ReadStringAsync($"{b}/error"));
        await WaitUntil(async () => await xs.TryReadStringAsync($"{b}/state") == "running", "state=running after the restart");
        ushort secondServer = Assert.Single(companion.Domain.IoreqServers).Key;
        Assert.NotEqual(firstServer, secondServer);

        // Served again through the new server; nothing of the guest's pmem moved.
        Assert.Equal(128u * 1024, BitConverter.ToUInt32(companion.Mailbox.Call(P.CommandLabelInfo, 1, 0, P.FamilyIntel, []), 4));
        Assert.Equal(before, Snapshot(companion));
        Assert.Equal(secondServer, CompanionRecord.TryParse(ReadShared(SimState.StateFile(domid)))!.IoreqServer);
        await companion.ReleaseAndAssertNothingLeftAsync(xs);
    }

    /// <summary>What the guest sees: its p2m (from the simulator) and its FIT (through its own doorbell).</summary>
    private static GuestView Snapshot(SimCompanion c) => new(
        string.Join(";", c.Domain.P2m.Ranges.Select(r => $"{r.Start:x}+{r.Count:x}>{r.Value.Mfn:x}/{r.Value.Type}")),
        Convert.ToHexString(c.Mailbox.ReadFit()));

    private sealed record GuestView(string P2m, string Fit);

    private static IEnumerable<string> HostileCommands(string a, string dir, string sparse, string unwritten, string hardlink, string symlink, string small, string labelTrap)
    {
        string[] specs =
        [
            $"backend={dir}", $"backend={dir}/", "backend=/nonexistent/x.img", "backend=/proc/self/mem", "backend=/dev/null", "backend=/dev/zero",
            $"backend={a}", $"backend={hardlink}", $"backend={symlink}", $"backend={sparse}", $"backend={unwritten}", $"backend={small}",
            $"backend={sparse}, label={labelTrap}", $"backend={dir}, label={labelTrap}",
            $"backend={a}, label_size=2G", $"backend={unwritten}, label_size=2G", $"backend={sparse}, label_size=1", $"backend={sparse}, label_size=-1",
            $"backend={sparse}, size=0", $"backend={sparse}, size=1T", $"backend={sparse}, size=3K", $"backend={sparse}, size=99999999999999999999",
            $"backend={sparse}, align=3K", $"backend={sparse}, align=0", $"backend={sparse}, slot=99", $"backend={sparse}, slot=-1", $"backend={sparse}, slot=0",
            $"backend={sparse}, node=abc", $"backend={sparse}, serial=0", $"backend={sparse}, foo=bar", "", "backend=", "backend=,,,,", ",,,", "=",
            $"backend={sparse}, backend={sparse}", new string('x', 3300), $"backend={new string('y', 3300)}", "backend=\u00e9\u4e2d\u0001\u007f",
            $"backend={sparse}, unarmed=maybe", $"backend={sparse}, label_size=128K, label=/proc/self/status",
        ];
        string[] verbs = ["add", "ADD", "remove", "rm", "", "frobnicate", "add\t", "\u00e9"];
        string[] badIds = ["a.b", new string('i', 65), "../x", "id/x", "id@x", "\u00e9", "a:b", "*"];
        int n = 0;
        foreach (string s in specs)
            yield return $"h{n++} add {s}";
        foreach (string v in verbs)
            yield return $"h{n++} {v} backend={sparse}";
        foreach (string id in badIds)
            yield return $"{id} add backend={sparse}";
        var rng = new Random(20261204);
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789=,./-_ \t'\"\\\u00e9";
        while (n < 1000)
        {
            int kind = rng.Next(4);
            string garbage = new([.. Enumerable.Range(0, rng.Next(0, 300)).Select(_ => alphabet[rng.Next(alphabet.Length)])]);
            yield return kind switch
            {
                0 => $"h{n++} add {garbage}",
                1 => $"h{n++} add {specs[rng.Next(specs.Length)]}, {garbage}",
                2 => $"h{n++} {garbage}",
                _ => garbage.Length == 0 ? $"h{n++} add" : $"{badIds[rng.Next(badIds.Length)]}{n++} {garbage}",
            };
        }
    }

    private static async Task WaitUntil(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(5);
        }
    }

    private static string Cut(string s) => s.Length > 120 ? s[..120] + "..." : s;

    // cat: the holder's exclusive flock refuses the shared one .NET's FileStream would ask for.
    private static string ReadShared(string path) => ProcessRunner.Run("cat", [path]).Stdout;
}
