using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.Acpi.Ssdt;
using XenVnvdimm.DeviceModel.Platforms.Xen;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// The xen platform's serving path on the simulated hypervisor, in process: a simulated vCPU
/// writes a request into the mailbox page (guest RAM the companion populated and foreign-mapped)
/// and rings the doorbell port; the companion's ioreq server answers before the vCPU resumes,
/// exactly as the guest's AML expects under Xen.
/// </summary>
public class SimDsmTests
{
    /// <param name="earlierLabel">A BACKEND.label an earlier version created exists (and must be used);
    /// otherwise the guest is new and its labels go under the labels root, keyed by serial.</param>
    /// <param name="domid">The simulated domain (one per case).</param>
    /// <param name="serial">The device's serial (one per case: it names the label file).</param>
    [Theory]
    [InlineData(false, 12, 0x5eed0012u)]
    [InlineData(true, 13, 0x5eed0013u)]
    public async Task DoorbellOnTheSimulatedHypervisorIsServedThroughTheForeignMappedMailbox(bool earlierLabel, ushort domid, uint serial)
    {
        using var d = new TempDir();
        string backend = d.File("pm.img");
        File.WriteAllBytes(backend, Enumerable.Range(0, 8 << 20).Select(i => (byte)(i * 13)).ToArray());
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={backend}, label_size=128K, serial=0x{serial:x}' ]\n");
        string underRoot = Path.Combine(SimState.LabelDirectory, $"{serial:x8}.label");
        string labelFile = earlierLabel ? backend + ".label" : underRoot;
        if (earlierLabel)
            File.WriteAllBytes(labelFile, new byte[128 * 1024]);
        string sock = d.File("xs.sock");
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var (platform, xen) = SimCompanion.Create(d.File("vm.cfg"), domid, sock);
        var run = platform.RunAsync(cts.Token);
        await Task.WhenAny(platform.Running.Task, run);
        if (run.IsCompleted)
            await run; // surfaces the start-up failure
        var sim = xen.Simulator!;
        var dom = sim.Domain(domid)!;
        var mailbox = new SimMailbox(sim, dom);
        ulong mailboxGfn = 0xFE000000 >> 12;
        Assert.Equal(P.Signature, BinaryPrimitives.ReadUInt32LittleEndian(dom.RamPage(mailboxGfn)));

        // The 8 MiB vNVDIMM is in the p2m at 4 GiB, and nothing beyond it.
        Assert.NotNull(dom.P2m.Lookup(0x100000));
        Assert.NotNull(dom.P2m.Lookup(0x100000 + 2047));
        Assert.Null(dom.P2m.Lookup(0x100000 + 2048));

        // Intel family function 0: functions 0, 4, 5, 6 (a device with labels).
        Assert.Equal(new byte[] { 0x71 }, mailbox.Call(P.CommandDsm, 1, 0, P.FamilyIntel, []));
        // _LSI: status 0, 128 KiB, max transfer.
        var lsi = mailbox.Call(P.CommandLabelInfo, 1, 0, P.FamilyIntel, []);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(lsi));
        Assert.Equal(128u * 1024, BinaryPrimitives.ReadUInt32LittleEndian(lsi.AsSpan(4)));
        // _LSW then the label file on dom0 holds the bytes.
        byte[] write = [0, 1, 0, 0, 8, 0, 0, 0, .. "XVNDLABL"u8];
        Assert.Equal(new byte[4], mailbox.Call(P.CommandLabelWrite, 1, 0, P.FamilyIntel, write));
        byte[] label = File.ReadAllBytes(labelFile);
        Assert.Equal("XVNDLABL"u8.ToArray(), label.AsSpan(0x100, 8).ToArray());
        Assert.False(File.Exists(earlierLabel ? underRoot : backend + ".label"), "labels went to one place only");
        // Unknown handle → status 2.
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(mailbox.Call(P.CommandLabelInfo, 9, 0, P.FamilyIntel, [])));
        // _FIT read at offset 0: status 0 and the FIT = the NFIT `tables` writes, minus its header.
        var fit = mailbox.Call(P.CommandReadFit, 0, 0, P.FamilyRoot, new byte[4]);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(fit));
        var tables = ProcessRunner.XenVnvdimm("tables", "--config", d.File("vm.cfg"), "--out", d.File("t"), "--platform", "xen");
        Assert.True(tables.ExitCode == 0, tables.ToString());
        Assert.Equal(File.ReadAllBytes(d.File("t/NFIT.bin"))[40..], fit[4..]);

        cts.Cancel();
        Assert.Equal(0, await run);
    }
}
