using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Xen.Abi;
using XenVnvdimm.DeviceModel.Xen.Sim;
using XenVnvdimm.XenStore;
using XenVnvdimm.XenStore.Client;
using static XenVnvdimm.Tests.Integration.CompanionProcess;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// Restart after a crash on the simulated hypervisor. The first companion runs as a process and is
/// killed with SIGKILL; its simulated domain persists (as a Xen domain outlives its device models),
/// with the frames, the mailbox page and the ioreq server it made. A successor with another config
/// is refused naming the difference; one with the same config re-attaches, in process so the test
/// can count its hypercalls: nothing is mapped or populated twice, the dead ioreq server is
/// replaced, and the guest's doorbell is answered again.
/// </summary>
public class SimReattachTests
{
    [Fact]
    public async Task AfterKill9TheNextCompanionReattachesWithoutMappingTwice()
    {
        const ushort domid = 33;
        using var d = new TempDir();
        string a = d.Filled("a.img", 16 << 20), c = d.Filled("c.img", 8 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\n");
        string sock = d.File("xs.sock"), b = $"/local/domain/0/device-model/{domid}/vnvdimm";
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        await using var xs = await XenStoreClient.ConnectAsync(sock);
        string[] run = ["run", "--platform", "sim", "--domid", $"{domid}", "--assume-spa-base", "0x100000000", "--config"];
        using var first = Start(sock, [.. run, d.File("vm.cfg")]);
        await WaitFor(() => Read(sock, $"{b}/state") == "running" || first.HasExited, "the first companion");
        Assert.False(first.HasExited);
        var add = ProcessRunner.Run("dotnet", [Dll, "hot-add", "--domid", $"{domid}", $"backend={c}, label_size=0"], env: ("XENSTORED_PATH", sock));
        Assert.Equal("ok slot=1", add.Stdout.Trim());

        first.Kill(); // SIGKILL: no teardown at all
        first.WaitForExit();
        var dead = SimState.Domain(domid);
        ushort deadServer = Assert.Single(dead.IoreqServers).Id;
        Assert.Equal((24UL << 20) >> 12, PmemFrames(dead.P2m));
        Assert.True(File.Exists(SimState.StateFile(domid)));

        // Another config: refused, naming what differs, and neither the domain nor the record changes.
        File.WriteAllText(d.File("other.cfg"), $"vnvdimms = [ 'backend={a}, size=8M' ]\n");
        var refused = ProcessRunner.Run("dotnet", [Dll, .. run, d.File("other.cfg")], env: ("XENSTORED_PATH", sock));
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"cannot re-attach to domain {domid}: the previous companion (pid={first.Id}, platform=sim", refused.Stderr);
        Assert.Contains("slot 0 size is 8388608 in the config but was 16777216", refused.Stderr);
        Assert.Equal(dead, SimState.Domain(domid), SnapshotComparer.Instance);
        Assert.Equal(first.Id, CompanionRecord.TryParse(File.ReadAllText(SimState.StateFile(domid)))!.Pid);
        Assert.Equal("error", await xs.ReadStringAsync($"{b}/state"));
        Assert.Contains("slot 0 size is 8388608", await xs.ReadStringAsync($"{b}/error"));

        // While no companion runs, the command node is opened to the guest: the re-attached companion
        // leaves it as it is (no silent repair) and refuses every command on it.
        await xs.SetPermissionsAsync($"{b}/command", XenStorePermissions.Parse($"n0 b{domid}"));

        // The same config: re-attached without a single mapping hypercall.
        using var second = await SimCompanion.StartAsync(d.File("vm.cfg"), domid, sock);
        var n = second.Sim.Counters;
        Assert.Equal(0, n["memory_op:populate_physmap"]);
        Assert.Equal(0, n["memory_op:populate_pmem_map"]);
        Assert.Equal(0, n["domctl:memory_mapping"]);
        Assert.Equal(0, n["domctl:iomem_permission"]);
        Assert.Equal(1, n["foreign_map"]); // the mailbox page, mapped again
        Assert.Equal(1, n[$"dm_op:{DmOpConstants.XEN_DMOP_destroy_ioreq_server}"]);
        Assert.Equal(1, n[$"dm_op:{DmOpConstants.XEN_DMOP_create_ioreq_server}"]);
        Assert.Equal(dead.P2m, [.. second.Domain.P2m.Ranges.Select(e => new SimP2mSnapshot(e.Start, e.Count, e.Value.Mfn, e.Value.Type, e.Value.Cache))]);
        var server = Assert.Single(second.Domain.IoreqServers);
        Assert.NotEqual(deadServer, server.Key);

        string e = d.Filled("e.img", 8 << 20);
        Assert.Equal($"n0 b{domid}", (await xs.GetPermissionsAsync($"{b}/command")).ToString());
        await xs.WriteAsync($"{b}/command", $"open1 add backend={e}, label_size=0");
        string? refusal = null;
        await WaitFor(() => (refusal = xs.TryReadStringAsync($"{b}/result/open1").GetAwaiter().GetResult()) is not null, "the refusal");
        Assert.Equal($"error: refusing to act: the command node is readable and writable by domain {domid} (permission 'b{domid}' in 'n0 b{domid}'); it must be dom0-only ('n0')", refusal);
        Assert.Equal(dead.P2m, [.. second.Domain.P2m.Ranges.Select(r => new SimP2mSnapshot(r.Start, r.Count, r.Value.Mfn, r.Value.Type, r.Value.Cache))]);
        Assert.False(await xs.ExistsAsync($"{b}/devices/2"));
        await xs.SetPermissionsAsync($"{b}/command", XenStorePermissions.Dom0Only);

        // Serving again: the FIT through the doorbell is that of a config listing both devices.
        File.WriteAllText(d.File("both.cfg"), $"vnvdimms = [ 'backend={a}', 'backend={c}, label_size=0' ]\n");
        var tables = ProcessRunner.XenVnvdimm("tables", "--config", d.File("both.cfg"), "--out", d.File("t"), "--platform", "xen");
        Assert.True(tables.ExitCode == 0, tables.ToString());
        Assert.Equal(File.ReadAllBytes(d.File("t/NFIT.bin"))[40..], second.Mailbox.ReadFit());
        var lsi = second.Mailbox.Call(P.CommandLabelInfo, 1, 0, P.FamilyIntel, []);
        Assert.Equal(128u * 1024, BitConverter.ToUInt32(lsi, 4));
        Assert.Equal("running", await xs.ReadStringAsync($"{b}/state"));
        Assert.Equal(Environment.ProcessId.ToString(), await xs.ReadStringAsync($"{b}/pid"));
        Assert.False(await xs.ExistsAsync($"{b}/error"));
        Assert.Equal(c, await xs.ReadStringAsync($"{b}/devices/1/backend"));
        Assert.Equal(Environment.ProcessId, CompanionRecord.TryParse(ReadShared(SimState.StateFile(domid)))!.Pid);

        // The frames it took over are its own now: when the domain is released, record, nodes and domain all go.
        await second.ReleaseAndAssertNothingLeftAsync(xs);
    }

    [Fact]
    public async Task ACompanionThatDiedWhileStartingIsNotReattachedTo()
    {
        const ushort domid = 34;
        using var d = new TempDir();
        string a = d.Filled("a.img", 8 << 20);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}' ]\n");
        // What a companion writes before it touches the domain; it died before recording the rest.
        byte[] record = (CompanionRecord.Fresh(domid, "sim") with { Pid = 999999 }).ToJson();
        Directory.CreateDirectory(SimState.Directory);
        File.WriteAllBytes(SimState.StateFile(domid), record);
        string sock = d.File("xs.sock");
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        var r = ProcessRunner.Run("dotnet", [Dll, "run", "--platform", "sim", "--domid", $"{domid}", "--config", d.File("vm.cfg"), "--assume-spa-base", "0x100000000"],
            env: ("XENSTORED_PATH", sock));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"cannot re-attach to domain {domid}: the previous companion (pid=999999, platform=sim", r.Stderr);
        Assert.Contains("died while starting, before it had recorded everything it mapped", r.Stderr);
        Assert.Contains($"remove {SimState.StateFile(domid)} once the domain is gone", r.Stderr);
        Assert.Equal(record, File.ReadAllBytes(SimState.StateFile(domid))); // kept for whoever cleans up
        Assert.Null(SimState.Hypervisor(domid)); // refused before any hypercall
        Assert.Equal("error", Read(sock, $"/local/domain/0/device-model/{domid}/vnvdimm/state"));
        File.Delete(SimState.StateFile(domid));
    }

    private static ulong PmemFrames(IEnumerable<SimP2mSnapshot> p2m) =>
        p2m.Where(e => e.Type is P2mType.MmioDirect or P2mType.Pmem).Aggregate(0UL, (n, e) => n + e.Count);

    // The live companion holds an exclusive flock on its state file; reading through a plain
    // FileStream would ask for a shared one.
    private static string ReadShared(string path) => ProcessRunner.Run("cat", [path]).Stdout;

    private static string Read(string sock, string path) =>
        ProcessRunner.Run("xenstore-read", [path], env: ("XENSTORED_PATH", sock)).Stdout.Trim();

    /// <summary>Snapshots compared by content (their lists are not value-equal).</summary>
    private sealed class SnapshotComparer : IEqualityComparer<SimDomainSnapshot>
    {
        public static readonly SnapshotComparer Instance = new();

        public bool Equals(SimDomainSnapshot? x, SimDomainSnapshot? y) =>
            x is not null && y is not null && x.Domid == y.Domid
            && x.P2m.SequenceEqual(y.P2m) && x.Ram.SequenceEqual(y.Ram) && x.Iomem.SequenceEqual(y.Iomem)
            && x.IoreqServers.Select(s => (s.Id, s.Enabled, string.Join(",", s.Ranges))).SequenceEqual(y.IoreqServers.Select(s => (s.Id, s.Enabled, string.Join(",", s.Ranges))));

        public int GetHashCode(SimDomainSnapshot obj) => obj.Domid;
    }
}
