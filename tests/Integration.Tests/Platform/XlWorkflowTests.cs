using XenVnvdimm.XenStore.Client;
using static XenVnvdimm.Tests.Integration.CompanionProcess;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// scripts/xl-vnvdimm's ordering and failure handling, with a recording stand-in for xl and the
/// companion on the simulated hypervisor (real xl runs in the Xen lab): tables are built before
/// any domain exists, the domain is created paused with acpi_firmware= pointing at them, the
/// companion reaches state=running before xl unpause, and destroy stops the companion, which
/// removes its xenstore nodes.
/// </summary>
public class XlWorkflowTests
{
    private const string FakeXl = """
        #!/bin/bash
        # Records every call; "domain" 5 for any name. unpause also records the companion's state.
        echo "xl $*" >> "$FAKE_XL_LOG"
        case "$1" in
          domid) echo 5 ;;
          unpause) echo "state-at-unpause $(xenstore-read /local/domain/0/device-model/5/vnvdimm/state)" >> "$FAKE_XL_LOG" ;;
        esac
        """;

    [Fact]
    public async Task CreateWaitsForTheCompanionBeforeUnpauseAndDestroyStopsIt()
    {
        using var d = new TempDir();
        string backend = d.File("pm.img");
        File.WriteAllBytes(backend, Enumerable.Range(0, 8 << 20).Select(i => (byte)(i * 7)).ToArray());
        File.WriteAllText(d.File("g1.cfg"), $"name = \"g1\"\ntype = \"hvm\"\nmemory = 512\nvnvdimms = [ 'backend={backend}' ]\n");
        File.WriteAllText(d.File("xl"), FakeXl);
        string sock = d.File("xs.sock"), log = d.File("xl.log");
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        var env = new[]
        {
            ("XENSTORED_PATH", sock), ("XL", $"bash {d.File("xl")}"), ("FAKE_XL_LOG", log),
            ("XEN_VNVDIMM", $"dotnet {Dll}"), ("XL_VNVDIMM_DIR", d.File("state")),
            ("XL_VNVDIMM_PLATFORM", "sim"), ("XL_VNVDIMM_RUN_ARGS", "--assume-spa-base 0x100000000"),
            ("XL_VNVDIMM_TIMEOUT", "5"),
        };
        string script = Path.Combine(GuestRunner.RepoRoot, "scripts", "xl-vnvdimm");

        var create = ProcessRunner.Run("bash", [script, "create", d.File("g1.cfg")], envs: env);
        Assert.True(create.ExitCode == 0, create.ToString());
        string firmware = d.File("state/g1/tables/acpi_firmware.bin");
        var calls = File.ReadAllLines(log);
        Assert.Equal($"xl create -p {d.File("g1.cfg")} acpi_firmware=\"{firmware}\"", calls[0]);
        Assert.Equal("xl domid g1", calls[1]);
        Assert.Equal("xl unpause 5", calls[2]);
        Assert.Equal("state-at-unpause running", calls[3]);
        byte[] fw = File.ReadAllBytes(firmware);
        Assert.Equal("SSDT", System.Text.Encoding.ASCII.GetString(fw, 0, 4));
        int ssdtLength = BitConverter.ToInt32(fw, 4);
        Assert.Equal("NFIT", System.Text.Encoding.ASCII.GetString(fw, ssdtLength, 4));
        int pid = int.Parse(File.ReadAllText(d.File("state/g1/companion.pid")));

        var destroy = ProcessRunner.Run("bash", [script, "destroy", "g1"], envs: env);
        Assert.True(destroy.ExitCode == 0, destroy.ToString());
        Assert.Equal("xl destroy g1", File.ReadAllLines(log)[^1]);
        Assert.False(File.Exists(d.File("state/g1/companion.pid")));
        Assert.Throws<ArgumentException>(() => System.Diagnostics.Process.GetProcessById(pid));
        await using var xs = await XenStoreClient.ConnectAsync(sock);
        // This fake xl destroys nothing, so the companion saw no @releaseDomain: it stopped on SIGTERM and,
        // the domain being alive for all it knows, left it its pmem and said so (real Xen releases the domain).
        Assert.Equal("stopped", await xs.ReadStringAsync("/local/domain/0/device-model/5/vnvdimm/state"));

        // A bad vnvdimms= stops before any domain is created.
        File.WriteAllText(d.File("bad.cfg"), $"name = \"bad\"\nvnvdimms = [ 'backend={backend}, size=3M' ]\n");
        int before = File.ReadAllLines(log).Length;
        var bad = ProcessRunner.Run("bash", [script, "create", d.File("bad.cfg")], envs: env);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("size 3M is not a multiple of align 2M", bad.Stderr);
        Assert.Equal(before, File.ReadAllLines(log).Length);
    }
}
