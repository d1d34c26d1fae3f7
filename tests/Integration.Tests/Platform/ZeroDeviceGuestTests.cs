using XenVnvdimm.Acpi.Nfit;
using XenVnvdimm.XenStore.Client;
using static XenVnvdimm.Tests.Integration.CompanionProcess;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// A guest with no boot devices and free slots for hot-add is a valid configuration: <c>tables</c>
/// builds tables for it (an NFIT with no devices, an SSDT with the slots and an empty boot FIT that
/// ACPICA accepts), and on the simulated hypervisor a later hot-add fills a slot and the guest's
/// _FIT path (the doorbell) then returns the new device.
/// </summary>
public class ZeroDeviceGuestTests
{
    [Theory]
    [InlineData("vnvdimms = [ ]\nvnvdimm_slots = 4\n", 4)]
    [InlineData("vnvdimm_slots = 2\n", 2)]
    public void TablesForAZeroDeviceConfigAreValid(string config, int slots)
    {
        using var d = new TempDir();
        string outDir = TableConfigs.Build(d, config, "xen");
        var nfit = NfitParser.Parse(File.ReadAllBytes(Path.Combine(outDir, "NFIT.bin")));
        Assert.Empty(nfit.SpaRanges);
        Assert.Equal(slots, TableConfigs.Layout(outDir).GetProperty("slots").GetInt32());

        // ACPICA: the SSDT disassembles cleanly, declares every slot, and _FIT evaluates to the empty boot FIT.
        var dis = ProcessRunner.Run("iasl", ["-d", "SSDT.aml"], outDir);
        Assert.True(dis.ExitCode == 0, dis.ToString());
        string dsl = File.ReadAllText(Path.Combine(outDir, "SSDT.dsl"));
        Assert.Contains("Name (BFIT, Buffer (Zero) {})", dsl);
        for (int s = 0; s < slots; s++)
            Assert.Contains($"Device (NV{s:X2})", dsl);
        var re = ProcessRunner.Run("iasl", ["-p", "recompiled", "SSDT.dsl"], outDir);
        Assert.Matches("0 Errors, 0 Warnings", re.Stdout);
    }

    [Fact]
    public async Task AZeroDeviceGuestTakesAHotAdd()
    {
        const ushort domid = 37;
        using var d = new TempDir();
        string c = d.Filled("c.img", 8 << 20);
        File.WriteAllText(d.File("vm.cfg"), "vnvdimms = [ ]\nvnvdimm_slots = 4\n");
        // The same config the companion serves is the one tables accepts.
        TableConfigs.Build(d, File.ReadAllText(d.File("vm.cfg")), "xen");

        string sock = d.File("xs.sock");
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        using var companion = await SimCompanion.StartAsync(d.File("vm.cfg"), domid, sock);
        await using var xs = await XenStoreClient.ConnectAsync(sock);
        Assert.Empty(NfitParser.ParseFit(companion.Mailbox.ReadFit()).SpaRanges);

        var add = ProcessRunner.Run("dotnet", [Dll, "hot-add", "--domid", $"{domid}", "--request-id", "z1", $"backend={c}, label_size=0"],
            env: ("XENSTORED_PATH", sock));
        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Equal("ok slot=0", add.Stdout.Trim());

        var fit = NfitParser.ParseFit(companion.Mailbox.ReadFit());
        var spa = Assert.Single(fit.SpaRanges);
        Assert.Equal(8UL << 20, spa.Length);
        Assert.Equal(spa.Base, Convert.ToUInt64(await xs.ReadStringAsync($"/local/domain/0/device-model/{domid}/vnvdimm/devices/0/gpa"), 16));
        var first = companion.Domain.P2m.Lookup(spa.Base >> 12);
        Assert.True(first is not null, $"gpa 0x{spa.Base:x} is not mapped after the hot-add");
        await companion.ReleaseAndAssertNothingLeftAsync(xs);
    }
}
