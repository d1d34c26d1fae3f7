using XenVnvdimm.Acpi.Nfit;
using XenVnvdimm.DeviceModel.Backing;
using XenVnvdimm.DeviceModel.Xen.Sim;
using XenVnvdimm.XenStore.Client;
using static XenVnvdimm.Tests.Integration.CompanionProcess;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// Hot-add on the simulated hypervisor with the embedded xenstored, the companion in process so the
/// test sees what the guest sees: the FIT read through a vCPU's doorbell, the p2m, the xenstore nodes.
/// Commands arrive as the toolstack writes them (raw xenstore writes, Debian's xenstore-chmod, our
/// hot-add command line). Every refusal must leave the guest exactly as it was.
/// </summary>
public class SimHotAddLifecycleTests
{
    private const ulong WindowBase = 0x100000000;

    [Fact]
    public async Task TwoHotAddsGrowTheFitAndEveryBadCommandChangesNothing()
    {
        const ushort domid = 31;
        using var d = new TempDir();
        string a = d.Filled("a.img", 16 << 20), c = d.Filled("c.img", 8 << 20), e = d.Filled("e.img", 8 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\nvnvdimm_slots = 4\n");
        string sock = d.File("xs.sock"), b = $"/local/domain/0/device-model/{domid}/vnvdimm";
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        using var companion = await SimCompanion.StartAsync(d.File("vm.cfg"), domid, sock);
        await using var xs = await XenStoreClient.ConnectAsync(sock);
        var dom = companion.Domain;

        // After start: one device in the FIT and in the p2m.
        byte[] fit0 = companion.Mailbox.ReadFit();
        var spa0 = Assert.Single(NfitParser.ParseFit(fit0).SpaRanges);
        Assert.Equal((WindowBase, 16UL << 20), (spa0.Base, spa0.Length));
        AssertMapped(dom, WindowBase, 16 << 20);
        var p2m0 = P2m(dom);
        // The command node is empty and dom0-only, as Debian's xenstore-ls sees it.
        string listing = Xs(sock, "xenstore-ls", "-p", b).Stdout;
        Assert.Matches(@"^command = """"[ .]*\(n0\)$", listing.Split('\n').Single(l => l.StartsWith("command ", StringComparison.Ordinal)));

        string victim = d.File("victim"), link = d.File("link.label"), shared = d.File("shared");
        File.WriteAllText(victim, "not a label\n");
        File.CreateSymbolicLink(link, victim);
        Directory.CreateDirectory(shared);
        Assert.Equal(0, ProcessRunner.Run("chmod", ["0777", shared]).ExitCode);

        // Bad commands: each answered with its reason, each leaving FIT, p2m and devices alone.
        (string Id, string Command, string Reason)[] bad =
        [
            ("nobackend", "add label_size=0", "missing required key 'backend'"),
            ("nofile", $"add backend={d.File("nope.img")}", $"backend '{d.File("nope.img")}' does not exist"),
            ("badsize", $"add backend={c}, size=3M", "size 3M is not a multiple of align 2M"),
            ("toobig", $"add backend={c}, size=16M", "size 16M is larger than backend"),
            ("label64k", $"add backend={c}, label_size=64K", "label_size 64K is below the 128K minimum"),
            ("dupslot", $"add backend={c}, slot=0", "slot 0 is already in use"),
            ("dupbackend", $"add backend={a}", $"backend '{a}' is already mapped in slot 0"),
            ("remove1", "remove slot=0", "removal is not supported"),
            ("badverb", "grow slot=0", "unknown command 'grow'"),
            // A label file that cannot be created fails after the backing was resolved and locked.
            ("badlabel", $"add backend={c}, label={a}/sub/c.label", $"label file '{a}/sub/c.label' cannot be opened"),
            // A label path that is a link (to a file root must not write) or lies in a directory others can write.
            ("linklabel", $"add backend={c}, label={link}", $"refusing to open {link}: it is a symbolic link (ELOOP)"),
            ("sharedlabel", $"add backend={c}, label={shared}/c.label", $"refusing to keep files in {shared}: the directory (mode 0777, uid 0) is writable by group or others"),
        ];
        foreach (var (id, command, reason) in bad)
        {
            string result = await CommandAsync(xs, domid, id, command);
            Assert.StartsWith("error: ", result);
            Assert.Contains(reason, result);
            await AssertUnchangedAsync(companion, xs, fit0, p2m0, $"after '{command}'");
        }
        // The failed label add released the backing's lock: nobody holds c.img now.
        using (var probe = BackingResolver.Resolve(c, new BackingOptions { AssumeSpaBase = WindowBase }))
            Assert.DoesNotContain(probe.Refusals, r => r.Reason == RefusalReason.InUse);
        Assert.False(File.Exists(d.File("c.img.label")));
        Assert.Equal("not a label\n", File.ReadAllText(victim));
        Assert.Empty(Directory.GetFileSystemEntries(shared));

        // A command node any domain but dom0 can reach (as owner, by the default access, through an
        // ACL entry — the guest's or a third domain's) is refused before the command is looked at.
        (string[] Perms, string What)[] open =
        [
            (["n0", "b31"], "readable and writable by domain 31 (permission 'b31' in 'n0 b31')"),
            (["n0", "r31"], "readable by domain 31 (permission 'r31' in 'n0 r31')"),
            (["n0", "w31"], "writable by domain 31 (permission 'w31' in 'n0 w31')"),
            (["n31"], "owned by domain 31 (permission 'n31' in 'n31')"),
            (["b0"], "readable and writable by every domain not listed (permission 'b0' in 'b0')"),
            (["n0", "n31", "w7"], "writable by domain 7 (permission 'w7' in 'n0 n31 w7')"),
        ];
        int n = 0;
        foreach (var (perms, what) in open)
        {
            Assert.Equal(0, Xs(sock, "xenstore-chmod", [$"{b}/command", .. perms]).ExitCode);
            string result = await CommandAsync(xs, domid, $"open{n++}", $"add backend={c}, label_size=0");
            Assert.Equal($"error: refusing to act: the command node is {what}; it must be dom0-only ('n0')", result);
            Assert.Equal(0, Xs(sock, "xenstore-chmod", $"{b}/command", "n0").ExitCode);
            await AssertUnchangedAsync(companion, xs, fit0, p2m0, $"with the command node {string.Join(' ', perms)}");
            Assert.False(await xs.ExistsAsync($"{b}/devices/1"));
        }

        // First hot-add (no labels): FIT a strict superset naming the new device, frames in the p2m.
        const ulong gpa1 = WindowBase + (16 << 20);
        byte[] fit1 = await HotAddAndAssertGrewAsync(sock, companion, xs, "add1", $"backend={c}, label_size=0", slot: 1, gpa1, 8 << 20, fit0);
        // Every frame of before is still there, frame by frame: the simulator merges the new device's
        // range into the old one when its frames happen to follow on the disk.
        Assert.All(p2m0, r =>
        {
            for (ulong g = r.Start; g < r.End; g++)
                Assert.Equal(r.Value with { Mfn = r.Value.Mfn + (g - r.Start) }, dom.P2m.Lookup(g));
        });

        // Second hot-add (with labels): the FIT grows again and the new device answers label calls.
        await HotAddAndAssertGrewAsync(sock, companion, xs, "add2", $"backend={e}", slot: 2, gpa1 + (8 << 20), 8 << 20, fit1);
        var lsi = companion.Mailbox.Call(P.CommandLabelInfo, 3, 0, P.FamilyIntel, []);
        Assert.Equal(0u, BitConverter.ToUInt32(lsi, 0));
        Assert.Equal(128u * 1024, BitConverter.ToUInt32(lsi, 4));
        Assert.Equal(new[] { "0", "1", "2" }, (await xs.ListAsync($"{b}/devices")).Order());

        // The domain is released (xl destroy): nothing of the companion's is left, in the simulator or in xenstore.
        await companion.ReleaseAndAssertNothingLeftAsync(xs);
    }

    [Fact]
    public async Task ConcurrentHotAddsGetDistinctSlotsAndARepeatedIdIsAnsweredOnce()
    {
        const ushort domid = 35;
        using var d = new TempDir();
        string a = d.Filled("a.img", 8 << 20), c = d.Filled("c.img", 8 << 20), e = d.Filled("e.img", 8 << 20), g = d.Filled("g.img", 8 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}, label_size=0' ]\n");
        string sock = d.File("xs.sock"), b = $"/local/domain/0/device-model/{domid}/vnvdimm";
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        using var companion = await SimCompanion.StartAsync(d.File("vm.cfg"), domid, sock);
        await using var xs = await XenStoreClient.ConnectAsync(sock);
        byte[] fit0 = companion.Mailbox.ReadFit();

        // Two toolstack requests at once: both answered, each with its own slot.
        var first = Task.Run(() => HotAdd(sock, domid, "--request-id", "c1", $"backend={c}, label_size=0"));
        var second = Task.Run(() => HotAdd(sock, domid, "--request-id", "c2", $"backend={e}, label_size=0"));
        var results = await Task.WhenAll(first, second);
        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.ToString()));
        var slots = results.Select(r => r.Stdout.Trim()).ToList();
        Assert.Equal(new[] { "ok slot=1", "ok slot=2" }, slots.Order());
        Assert.Equal(slots[0], await xs.ReadStringAsync($"{b}/result/c1"));
        Assert.Equal(slots[1], await xs.ReadStringAsync($"{b}/result/c2"));
        int slotC = slots[0] == "ok slot=1" ? 1 : 2;
        Assert.Equal(c, await xs.ReadStringAsync($"{b}/devices/{slotC}/backend"));
        Assert.Equal(e, await xs.ReadStringAsync($"{b}/devices/{3 - slotC}/backend"));
        var gpas = new List<ulong>();
        foreach (int slot in new[] { 1, 2 })
        {
            ulong gpa = Convert.ToUInt64(await xs.ReadStringAsync($"{b}/devices/{slot}/gpa"), 16);
            AssertMapped(companion.Domain, gpa, 8 << 20);
            gpas.Add(gpa);
        }
        Assert.Equal(new[] { WindowBase + (8 << 20), WindowBase + (16 << 20) }, gpas.Order());
        byte[] fit = companion.Mailbox.ReadFit();
        var nfit = NfitParser.ParseFit(fit);
        Assert.All(NfitParser.ParseFit(fit0).Structures, s => Assert.Contains(s, nfit.Structures));
        Assert.Equal(3, nfit.SpaRanges.Count);
        Assert.Equal(new uint[] { 1, 2, 3 }, nfit.MemoryDeviceMaps.Select(m => m.DeviceHandle).Order());

        // The same request id again, now with another backend: answered once, executed once.
        var p2m = P2m(companion.Domain);
        await xs.WriteAsync($"{b}/command", $"c1 add backend={g}, label_size=0");
        await WaitForAsync(async () => await xs.ReadStringAsync($"{b}/command") == "", "the repeated command to be consumed");
        Assert.Equal(slots[0], await xs.ReadStringAsync($"{b}/result/c1"));
        Assert.False(await xs.ExistsAsync($"{b}/devices/3"));
        Assert.Equal(fit, companion.Mailbox.ReadFit());
        Assert.Equal(p2m, P2m(companion.Domain));

        await companion.ReleaseAndAssertNothingLeftAsync(xs);
    }

    private static async Task AssertUnchangedAsync(SimCompanion companion, XenStoreClient xs, byte[] fit, List<RangeEntry<P2mTarget>> p2m, string when)
    {
        Assert.True(fit.AsSpan().SequenceEqual(companion.Mailbox.ReadFit()), $"the FIT changed {when}");
        Assert.True(p2m.SequenceEqual(P2m(companion.Domain)), $"the p2m changed {when}");
        var devices = await xs.ListAsync($"{Base(companion.Domain.Domid)}/devices");
        Assert.True(devices.SequenceEqual(["0"]), $"devices/ holds {string.Join(",", devices)} {when}");
    }

    /// <summary>
    /// Hot-adds <paramref name="device"/> with the hot-add command line and checks it went to <paramref name="slot"/> at
    /// <paramref name="gpa"/>: the FIT grew from <paramref name="fitBefore"/> by the device and its frames are mapped. Returns the new FIT.
    /// </summary>
    private static async Task<byte[]> HotAddAndAssertGrewAsync(string sock, SimCompanion companion, XenStoreClient xs, string requestId, string device, int slot, ulong gpa, ulong size, byte[] fitBefore)
    {
        ushort domid = companion.Domain.Domid;
        var add = HotAdd(sock, domid, "--request-id", requestId, device);
        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Equal($"ok slot={slot}", add.Stdout.Trim());
        Assert.Equal(gpa, Convert.ToUInt64(await xs.ReadStringAsync($"{Base(domid)}/devices/{slot}/gpa"), 16));
        byte[] fit = companion.Mailbox.ReadFit();
        await AssertGrewAsync(xs, domid, fitBefore, fit, slot, gpa, size);
        AssertMapped(companion.Domain, gpa, size);
        return fit;
    }

    /// <summary>The FIT grew into a strict superset holding the slot's SPA range, memory-device map and control region.</summary>
    private static async Task AssertGrewAsync(XenStoreClient xs, ushort domid, byte[] before, byte[] after, int slot, ulong gpa, ulong size)
    {
        var old = NfitParser.ParseFit(before).Structures;
        var now = NfitParser.ParseFit(after);
        Assert.All(old, s => Assert.Contains(s, now.Structures));
        Assert.Equal(old.Count + 3, now.Structures.Count);
        var spa = Assert.Single(now.SpaRanges, s => s.Base == gpa);
        Assert.Equal(size, spa.Length);
        var map = Assert.Single(now.MemoryDeviceMaps, m => m.DeviceHandle == (uint)slot + 1);
        Assert.Equal((spa.RangeIndex, size), (map.SpaRangeIndex, map.RegionSize));
        var dcr = Assert.Single(now.ControlRegions, r => r.ControlRegionIndex == map.ControlRegionIndex);
        Assert.Equal(Convert.ToUInt32(await xs.ReadStringAsync($"{Base(domid)}/devices/{slot}/serial"), 16), dcr.SerialNumber);
    }

    /// <summary>Every frame of [gpa, gpa + size) is in the p2m as pmem (mapped cached, or as MMIO by the fallback).</summary>
    private static void AssertMapped(SimDomain dom, ulong gpa, ulong size)
    {
        var first = dom.P2m.Lookup(gpa >> 12);
        Assert.True(first is { Type: P2mType.Pmem or P2mType.MmioDirect }, $"gpa 0x{gpa:x} is not mapped as pmem");
        Assert.True(dom.P2m.Covers(gpa >> 12, size >> 12, first.Value.Type), $"[0x{gpa:x}, +0x{size:x}) is not all mapped");
    }

    private static List<RangeEntry<P2mTarget>> P2m(SimDomain dom) => [.. dom.P2m.Ranges];

    private static string Base(ushort domid) => $"/local/domain/0/device-model/{domid}/vnvdimm";

    /// <summary>Writes a command as the toolstack does and waits for its result.</summary>
    private static async Task<string> CommandAsync(XenStoreClient xs, ushort domid, string id, string command)
    {
        // The node must be free: a command written over a pending one replaces it.
        await WaitForAsync(async () => await xs.ReadStringAsync($"{Base(domid)}/command") == "", "the command node to be free");
        await xs.WriteAsync($"{Base(domid)}/command", $"{id} {command}");
        string? result = null;
        await WaitForAsync(async () => (result = await xs.TryReadStringAsync($"{Base(domid)}/result/{id}")) is not null, $"result/{id}");
        return result!;
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }

    private static ProcessResult HotAdd(string sock, ushort domid, params string[] args) =>
        ProcessRunner.Run("dotnet", new[] { Dll, "hot-add", "--domid", domid.ToString(), "--timeout", "120" }.Concat(args), env: ("XENSTORED_PATH", sock));

    private static ProcessResult Xs(string sock, string tool, params string[] args) =>
        ProcessRunner.Run(tool, args, env: ("XENSTORED_PATH", sock));
}
