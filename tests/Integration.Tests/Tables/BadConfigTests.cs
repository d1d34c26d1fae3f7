namespace XenVnvdimm.Tests.Integration;

/// <summary>Every bad configuration exits non-zero with one clear line naming the entry and key, and writes nothing.</summary>
public class BadConfigTests
{
    public static TheoryData<string, string> Cases() => new()
    {
        // config body (BACKEND = an existing 64 MiB file), expected words in the error line
        { "vnvdimms = [ 'backend=BACKEND', 'backend=BACKEND' ]", "vnvdimms[1]: backend" },               // overlap: same backend twice
        { "vnvdimms = [ 'backend=BACKEND, slot=3', 'backend=BACKEND2, slot=3' ]", "vnvdimms[1]: slot 3 is already used by vnvdimms[0]" },
        { "vnvdimms = [ 'backend=BACKEND, serial=7', 'backend=BACKEND2, serial=7' ]", "vnvdimms[1]: serial 0x7 duplicates" },
        { "vnvdimms = [ 'backend=BACKEND, size=3M' ]", "vnvdimms[0]: size 3M is not a multiple of align 2M" },
        { "vnvdimms = [ 'backend=BACKEND, size=1G, align=1G' ]", "vnvdimms[0]: size 1G is larger than backend" },
        { "vnvdimms = [ 'backend=BACKEND, label_size=64K' ]", "vnvdimms[0]: label_size 64K is below the 128K minimum" },
        { "vnvdimms = [ 'backend=BACKEND, align=8K' ]", "vnvdimms[0]: align 8K must be 4K, 2M or 1G" },
        { "vnvdimms = [ 'size=2M' ]", "vnvdimms[0]: missing required key 'backend'" },
        { "vnvdimms = [ 'backend=BACKEND, colour=red' ]", "vnvdimms[0]: unknown key 'colour'" },
        { "vnvdimms = [ 'backend=BACKEND, unarmed=yes' ]", "vnvdimms[0]: unarmed 'yes' is not an integer" },
        { "vnvdimms = [ 'backend=/nonexistent/x.img' ]", "vnvdimms[0]: backend '/nonexistent/x.img' does not exist" },
        { "vnvdimm_base = \"0xFFFFFFFFFF000000\"\nvnvdimms = [ 'backend=BACKEND' ]", "vnvdimms[0]: window wraps past 2^52" },
        { "vnvdimm_base = \"0xFE000000\"\nvnvdimms = [ 'backend=BACKEND' ]", "overlaps dsm_mailbox" },
        { "dsm_mailbox = 0x100000000\nvnvdimms = [ 'backend=BACKEND' ]", "dsm_mailbox 0x100000000 must be a 4K-aligned page below 4 GiB" },
        { "event_irq = 2\nvnvdimms = [ 'backend=BACKEND' ]", "event_irq 2 must be an ISA interrupt" },
        { "event_irq = 9\nvnvdimms = [ 'backend=BACKEND' ]", "event_irq 9 must be an ISA interrupt the xen platform leaves free (7)" },
        { "dsm_port = \"0xCFC\"\nvnvdimms = [ 'backend=BACKEND' ]", "dsm_port 0xCFC is used by the guest's PCI configuration" },
        { "vnvdimms = [ 'backend=BACKEND, label_size=2G' ]", "vnvdimms[0]: label_size 2G is above the 1M maximum" },
        { "memory = 768\nmmio_hole = 3584\nvnvdimm_base = 0x100000000\nvnvdimms = [ 'backend=BACKEND' ]",
          "vnvdimm_base 0x100000000: the base overlaps the guest's high RAM 0x100000000-0x10fffffff (memory=768, mmio_hole=3584)" },
        { "vnvdimm_base = 0\nvnvdimms = [ 'backend=BACKEND' ]", "vnvdimm_base 0x0: the window cannot start at guest address 0" },
        { "dsm_mailbox = \"0xFEC00000\"\nvnvdimms = [ 'backend=BACKEND' ]", "dsm_mailbox 0xfec00000: the page 0xfec00000-0xfec00fff overlaps the IOAPIC" },
        { "vnvdimms = [ 'backend=BACKEND', ", "unterminated list for 'vnvdimms'" },
        { "vnvdimms = 'backend=BACKEND'", "vnvdimms (line 1) must be a list of strings" },
        { "vnvdimms = [ 'backend=BACKEND, slot=64' ]", "vnvdimms[0]: slot 64 is out of range" },
        { "MANY", "vnvdimms has 65 entries; at most 64 are supported" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void RejectedWithAClearMessageAndNothingWritten(string body, string expected)
    {
        using var d = new TempDir();
        string backend = d.Sparse("b.img", 64 << 20), backend2 = d.Sparse("b2.img", 64 << 20);
        string config = body == "MANY"
            ? "vnvdimms = [" + string.Join(",", Enumerable.Range(0, 65).Select(i => $"'backend={d.File($"m{i}")}, size=2M'")) + "]"
            : body.Replace("BACKEND2", backend2).Replace("BACKEND", backend);
        File.WriteAllText(d.File("bad.cfg"), config);
        string outDir = d.File("out");

        var r = ProcessRunner.XenVnvdimm("tables", "--config", d.File("bad.cfg"), "--out", outDir);

        Assert.Equal(2, r.ExitCode);
        string[] lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one error line, got:\n{r.Stderr}");
        Assert.StartsWith("xen-vnvdimm tables: error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.False(Directory.Exists(outDir), "nothing may be written for a bad configuration");
    }

    [Fact]
    public void BadArgumentsAreOneLineErrors()
    {
        var r = ProcessRunner.XenVnvdimm("tables", "--config");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("xen-vnvdimm tables: error: option --config needs a value (try 'xen-vnvdimm tables --help')", r.Stderr.Trim());
        r = ProcessRunner.XenVnvdimm("tables", "--config", "/nonexistent.cfg", "--out", "/tmp/x", "--platform", "kvm");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--platform 'kvm' must be xen or qemu", r.Stderr);
        r = ProcessRunner.XenVnvdimm("frobnicate");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown command 'frobnicate'", r.Stderr);
    }
}
