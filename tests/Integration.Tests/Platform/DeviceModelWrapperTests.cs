using System.Diagnostics;
using XenVnvdimm.XenStore.Client;
using static XenVnvdimm.Tests.Integration.CompanionProcess;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// scripts/qemu-dm, the device-model wrapper libxl runs (device_model_override), with a recording
/// stand-in for QEMU and the companion on the simulated hypervisor (real xl runs in the Xen lab):
/// the companion is running before QEMU starts, QEMU gets libxl's arguments untouched and the
/// wrapper's exit status is QEMU's; a stale or missing layout record, a failing companion or a
/// stubdomain backend stops it with the reason on stderr and QEMU never runs.
/// </summary>
public class DeviceModelWrapperTests
{
    // Records its arguments one per line and the companion's state at the moment QEMU starts.
    private const string FakeQemu = """
        #!/bin/sh
        printf '%s\n' "$@" > "$FAKE_QEMU_LOG"
        echo "state-at-exec $(xenstore-read /local/domain/0/device-model/$FAKE_DOMID/vnvdimm/state)" >> "$FAKE_QEMU_LOG"
        exit 7
        """;

    private sealed class Setup(TempDir d, string socket, int domid)
    {
        public string Config => d.File("g1.cfg");
        public string QemuLog => d.File("qemu.log");
        public string TablesDir => d.File("tables");
        public string LogDir => d.File("log");

        public (string, string)[] Env(params (string, string)[] extra) =>
        [
            ("XENSTORED_PATH", socket), ("XEN_VNVDIMM", $"dotnet {Dll}"), ("XEN_VNVDIMM_QEMU", d.File("qemu")),
            ("XEN_VNVDIMM_TABLES_DIR", TablesDir), ("XEN_VNVDIMM_LOG_DIR", LogDir), ("XEN_VNVDIMM_PLATFORM", "sim"),
            ("XEN_VNVDIMM_RUN_ARGS", "--assume-spa-base 0x100000000"), ("XEN_VNVDIMM_START_TIMEOUT", "60"),
            ("FAKE_QEMU_LOG", QemuLog), ("FAKE_DOMID", domid.ToString(System.Globalization.CultureInfo.InvariantCulture)), .. extra,
        ];

        public ProcessResult Tables() =>
            ProcessRunner.Run("dotnet", [Dll, "tables", "--config", Config, "--state-dir", TablesDir]);

        public string Inherited => d.File("inherited");

        // Run the way libxl runs it: with an extra descriptor open (fd 17 here, its QMP socket there).
        public ProcessResult Wrapper(params string[] args) => WrapperWith([], args);

        public ProcessResult WrapperWith((string, string)[] env, params string[] args) =>
            ProcessRunner.Run("bash", ["-c", $"exec 17>'{Inherited}'; exec sh \"$0\" \"$@\"", Path.Combine(GuestRunner.RepoRoot, "scripts", "qemu-dm"), .. args], envs: Env(env));

        // Run as a child of a process whose command line is xl's (`xl migrate-receive`, `xl restore`).
        public ProcessResult WrapperUnderXl(string xlCommand, params string[] args) =>
            ProcessRunner.Run("bash", ["-c", $"exec 17>'{Inherited}'; w=$2; shift 2; sh \"$w\" \"$@\"; exit $?", "xl", xlCommand,
                Path.Combine(GuestRunner.RepoRoot, "scripts", "qemu-dm"), .. args], envs: Env());
    }

    private static async Task<(TempDir, EmbeddedXenstored, Setup)> Prepare(int domid, string extraConfig = "")
    {
        var d = new TempDir();
        string backend = d.File("pm.img");
        File.WriteAllBytes(backend, new byte[8 << 20]);
        File.WriteAllText(d.File("g1.cfg"), $"name = \"g1\"\ntype = \"hvm\"\nmemory = 512\nvnvdimms = [ 'backend={backend}' ]\n{extraConfig}");
        File.WriteAllText(d.File("qemu"), FakeQemu);
        Assert.Equal(0, ProcessRunner.Run("chmod", ["+x", d.File("qemu")]).ExitCode);
        string sock = d.File("xs.sock");
        var xenstored = await EmbeddedXenstored.StartAsync(sock);
        return (d, xenstored, new Setup(d, sock, domid));
    }

    // The companion the wrapper left running (detached, as under libxl), by its pid in xenstore.
    private static async Task KillCompanionAsync(XenStoreClient xs, int domid)
    {
        int pid = int.Parse(await xs.ReadAsync($"/local/domain/0/device-model/{domid}/vnvdimm/pid"), System.Globalization.CultureInfo.InvariantCulture);
        using var companion = Process.GetProcessById(pid);
        companion.Kill();
        companion.WaitForExit();
    }

    // libxl's HVM device-model arguments, with one argument holding blanks and quotes.
    private static string[] LibxlArgs(int domid) =>
        ["-xen-domid", $"{domid}", "-no-shutdown", "-no-user-config", "-name", "g1", "-vnc", "none",
         "-machine", "xenfv,suppress-vmdesc=on", "-m", "512", "-drive", "file=/srv/disk one.img,if=ide,format=raw,id='x\"y'"];

    [Fact]
    public async Task StartsTheCompanionDetachedAndRunningThenExecsQemuWithItsArgumentsUntouched()
    {
        const int domid = 41;
        var (d, xenstored, s) = await Prepare(domid);
        using var _ = d;
        using var __ = xenstored;
        var tables = s.Tables();
        Assert.True(tables.ExitCode == 0, tables.ToString());
        Assert.Contains("device_model_override = \"/usr/lib/xen-vnvdimm/qemu-dm\"", tables.Stdout);
        Assert.Contains($"acpi_firmware = \"{s.TablesDir}/g1/acpi_firmware.bin\"", tables.Stdout);
        using (var record = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes($"{s.TablesDir}/g1/layout.json")))
        {
            Assert.Equal(2, record.RootElement.GetProperty("version").GetInt32());
            Assert.Equal("xen", record.RootElement.GetProperty("platform").GetString());
            Assert.Equal("g1", record.RootElement.GetProperty("name").GetString());
            Assert.Equal(s.Config, record.RootElement.GetProperty("config").GetString());
            Assert.StartsWith("xxh128:", record.RootElement.GetProperty("config_digest").GetString(), StringComparison.Ordinal);
        }
        var decoded = ProcessRunner.Run("dotnet", [Dll, "tables", "--decode", $"{s.TablesDir}/g1/NFIT.bin"]);
        Assert.Equal(decoded.Stdout, File.ReadAllText($"{s.TablesDir}/g1/nfit.txt"));
        Assert.Contains("SPA", decoded.Stdout);

        var run = s.Wrapper(LibxlArgs(domid));
        Assert.True(run.ExitCode == 7, run.ToString()); // QEMU's own status: the wrapper became QEMU
        var seen = File.ReadAllLines(s.QemuLog);
        Assert.Equal(LibxlArgs(domid), seen[..^1]);
        Assert.Equal("state-at-exec running", seen[^1]);

        await using var xs = await XenStoreClient.ConnectAsync(Path.Combine(d.Path, "xs.sock"));
        int pid = int.Parse(await xs.ReadAsync($"/local/domain/0/device-model/{domid}/vnvdimm/pid"), System.Globalization.CultureInfo.InvariantCulture);
        using var companion = Process.GetProcessById(pid);
        try
        {
            // Detached: the companion leads its own session, so it outlives QEMU and libxl's process group.
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            Assert.Equal(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[3]); // session id
            Assert.Contains("companion " + pid + " running", File.ReadAllText(Path.Combine(s.LogDir, "xen-vnvdimm-g1.log")));
            // None of the wrapper's descriptors beyond stdio (libxl's QMP socket is QEMU's alone).
            Assert.DoesNotContain(Directory.GetFiles($"/proc/{pid}/fd"), f => new FileInfo(f).LinkTarget == s.Inherited);
        }
        finally
        {
            companion.Kill();
            companion.WaitForExit();
        }
    }

    // libxl names its QMP socket by path, or (libxl >= 4.15) passes a descriptor bound at its usual path.
    [Theory]
    [InlineData(71, "socket,id=libxl-cmd,path=/var/run/xen/qmp-libxl-71.test,server=on,wait=off", "on", "/var/run/xen/qmp-libxl-71.test")]
    [InlineData(72, "socket,id=libxl-cmd,fd=17,server=on,wait=off", "on", "/var/run/xen/qmp-libxl-72")]
    [InlineData(73, "socket,id=libxl-cmd,fd=17,server=on,wait=off", "off", null)]
    [InlineData(74, "socket,id=libxenstat-cmd,path=/var/run/xen/qmp-libxenstat-74,server=on,wait=off", "on", null)]
    public async Task TheCompanionGuardsLibxlsQmpSocketUnlessToldNot(int domid, string chardev, string guard, string? expected)
    {
        var (d, xenstored, s) = await Prepare(domid);
        using var _ = d;
        using var __ = xenstored;
        Assert.Equal(0, s.Tables().ExitCode);
        string[] args = [.. LibxlArgs(domid), "-chardev", chardev, "-mon", "chardev=libxl-cmd,mode=control"];
        var run = s.WrapperWith([("XEN_VNVDIMM_QMP_GUARD", guard)], args);
        Assert.True(run.ExitCode == 7, run.ToString());
        Assert.Equal(args, File.ReadAllLines(s.QemuLog)[..^1]); // QEMU's arguments untouched either way

        await using var xs = await XenStoreClient.ConnectAsync(Path.Combine(d.Path, "xs.sock"));
        int pid = int.Parse(await xs.ReadAsync($"/local/domain/0/device-model/{domid}/vnvdimm/pid"), System.Globalization.CultureInfo.InvariantCulture);
        string[] argv = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
        await KillCompanionAsync(xs, domid);
        int at = Array.IndexOf(argv, "--qmp-guard");
        if (expected is null)
            Assert.Equal(-1, at);
        else
            Assert.Equal(expected, argv[at + 1]);
    }

    [Fact]
    public async Task AStaleLayoutRecordIsRefusedAndQemuNeverRuns()
    {
        const int domid = 42;
        var (d, xenstored, s) = await Prepare(domid);
        using var _ = d;
        using var __ = xenstored;
        Assert.Equal(0, s.Tables().ExitCode);
        File.AppendAllText(s.Config, "dsm_port = 2600\n");

        var run = s.Wrapper(LibxlArgs(domid));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"the vNVDIMM settings of g1.cfg changed after `xen-vnvdimm tables` wrote {s.TablesDir}/g1; re-run tables", run.Stderr);
        Assert.False(File.Exists(s.QemuLog));
        await using var xs = await XenStoreClient.ConnectAsync(Path.Combine(d.Path, "xs.sock"));
        Assert.False(await xs.ExistsAsync($"/local/domain/0/device-model/{domid}/vnvdimm/state"));

        // A key that does not shape the layout does not make the record stale.
        Assert.Equal(0, s.Tables().ExitCode);
        File.AppendAllText(s.Config, "vcpus = 2\n");
        var fine = s.Wrapper(LibxlArgs(domid));
        Assert.True(fine.ExitCode == 7, fine.ToString());
        await KillCompanionAsync(xs, domid);
    }

    [Fact]
    public async Task NoRecordAFailingCompanionOrAStubdomainBackendStopsBeforeQemu()
    {
        const int domid = 43;
        var (d, xenstored, s) = await Prepare(domid);
        using var _ = d;
        using var __ = xenstored;

        var none = s.Wrapper(LibxlArgs(domid));
        Assert.Equal(1, none.ExitCode);
        Assert.Contains($"no layout record for guest g1 in {s.TablesDir}/g1: run 'xen-vnvdimm tables --config /etc/xen/g1.cfg' first", none.Stderr);

        Assert.Equal(0, s.Tables().ExitCode);
        File.Delete(d.File("pm.img")); // the backing is gone: the companion cannot start
        var failing = s.Wrapper(LibxlArgs(domid));
        Assert.Equal(1, failing.ExitCode);
        Assert.Contains("the companion for g1 (domain 43)", failing.Stderr);
        Assert.Contains("pm.img", failing.Stderr);

        var stub = s.Wrapper("-xen-domid", "44", "-xen-attach", "-name", "g1-dm", "-M", "xenpv");
        Assert.Equal(1, stub.ExitCode);
        Assert.Contains("stubdomain device models are not supported", stub.Stderr);
        Assert.False(File.Exists(s.QemuLog));

        // A QEMU run for no domain (libxl's option probe) passes straight through.
        var probe = s.Wrapper("-S", "-machine", "none,accel=xen");
        Assert.True(probe.ExitCode == 7, probe.ToString());
        Assert.Equal(["-S", "-machine", "none,accel=xen"], File.ReadAllLines(s.QemuLog)[..^1]);

        File.AppendAllText(s.Config, "device_model_stubdomain_override = 1\n");
        var tables = s.Tables();
        Assert.Equal(2, tables.ExitCode);
        Assert.Contains("stubdomain device models are not supported", tables.Stderr);
    }

    [Fact]
    public async Task TheReceivingSideOfXlMigrateIsRefusedButXlRestoreStarts()
    {
        const int domid = 45;
        var (d, xenstored, s) = await Prepare(domid);
        using var _ = d;
        using var __ = xenstored;
        Assert.Equal(0, s.Tables().ExitCode);
        // libxl names the receiving domain NAME--incoming and hands QEMU the saved state.
        string[] incoming = ["-xen-domid", $"{domid}", "-name", "g1--incoming", "-incoming", "fd:4"];

        var migrate = s.WrapperUnderXl("migrate-receive", incoming);
        Assert.Equal(1, migrate.ExitCode);
        Assert.Contains($"refusing to receive guest g1 (domain {domid}) by xl migrate", migrate.Stderr);
        Assert.Contains("the guest resumes on the sending host", migrate.Stderr);
        Assert.False(File.Exists(s.QemuLog));
        await using var xs = await XenStoreClient.ConnectAsync(Path.Combine(d.Path, "xs.sock"));
        Assert.False(await xs.ExistsAsync($"/local/domain/0/device-model/{domid}/vnvdimm/state"));

        var restore = s.WrapperUnderXl("restore", ["-xen-domid", $"{domid}", "-name", "g1", "-incoming", "fd:4"]);
        Assert.True(restore.ExitCode == 7, restore.ToString());
        Assert.Equal("state-at-exec running", File.ReadAllLines(s.QemuLog)[^1]);
        await KillCompanionAsync(xs, domid);
    }
}
