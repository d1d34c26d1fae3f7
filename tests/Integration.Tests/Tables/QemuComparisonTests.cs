using XenVnvdimm.Acpi.Nfit;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// Boots QEMU 7.2 once with its own <c>-device nvdimm</c> (512 MiB, label-size 128 KiB) and has
/// the guest copy the NFIT QEMU built (/sys/firmware/acpi/tables/NFIT) into that NVDIMM, from
/// where the host reads it: QEMU itself, live, is the peer (the same configuration as
/// ../shared/reference/qemu-tables/qemu72-1dimm-512M-label128K-NFIT.bin).
/// </summary>
public sealed class LiveQemuNfit
{
    public LiveQemuNfit()
    {
        GuestRunner.RequireTools();
        using var d = new TempDir();
        string nv = d.Sparse("qemu-nvdimm.img", 512 << 20);
        var run = GuestRunner.RunAsync(["--qemu-nvdimm", $"{nv}:128K", "--timeout", "150", "-c",
            "dd if=/sys/firmware/acpi/tables/NFIT of=/dev/pmem0 bs=4096 conv=sync,fsync 2>/dev/null && echo COPIED"],
            TimeSpan.FromSeconds(200)).GetAwaiter().GetResult();
        Assert.True(run.ExitCode == 0 && run.Stdout.Contains("COPIED"), run.ToString());
        byte[] head = new byte[4096];
        using (var f = File.OpenRead(nv))
            f.ReadExactly(head);
        int length = BitConverter.ToInt32(head, 4);
        Assert.InRange(length, 40, 4096);
        Bytes = head[..length];
    }

    /// <summary>QEMU's NFIT, whole table.</summary>
    public byte[] Bytes { get; }
}

/// <summary>Our NFIT against QEMU's own, for the same one-DIMM configuration.</summary>
public class QemuComparisonTests(LiveQemuNfit qemu) : IClassFixture<LiveQemuNfit>
{
    [Fact]
    public void SubStructuresMatchQemuByteForByte() => AssertSameSubStructures(qemu.Bytes, OurNfitForQemusConfig());

    /// <summary>The live QEMU here builds the same NFIT as the QEMU 7.2 that made the stored reference.</summary>
    [SharedReferenceFact]
    public void LiveQemuMatchesTheStoredReference() => AssertSameSubStructures(SharedReference.QemuNfit(), qemu.Bytes);

    /// <summary>
    /// Our NFIT for QEMU's configuration: one 512 MiB nvdimm at 4 GiB with a 128 KiB label area
    /// carved from its end (so the SPA range is 512M - 128K); serial 0x123456; slot 0 → handle 1,
    /// SPA 2, DCR 3.
    /// </summary>
    internal static byte[] OurNfitForQemusConfig()
    {
        using var d = new TempDir();
        string backend = d.Sparse("qemu.img", 512 << 20);
        string config = $"vnvdimms = [ 'backend={backend}, size=0x1FFE0000, align=4K, label_size=128K, serial=0x123456, slot=0' ]\n" +
                        "vnvdimm_base = 0x100000000\n";
        string outDir = TableConfigs.Build(d, config, "qemu");
        return File.ReadAllBytes(Path.Combine(outDir, "NFIT.bin"));
    }

    /// <summary>Same length and sub-structures byte for byte; header: same signature, length and revision (OEM fields differ).</summary>
    internal static void AssertSameSubStructures(byte[] expected, byte[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        Assert.Equal(Convert.ToHexString(expected.AsSpan(NfitTable.HeaderSize)), Convert.ToHexString(actual.AsSpan(NfitTable.HeaderSize)));
        Assert.Equal(expected.AsSpan(0, 9).ToArray(), actual.AsSpan(0, 9).ToArray());
    }

    [Fact]
    public void ParserDecodesQemusTableAndRoundTripsIt()
    {
        var table = NfitParser.Parse(qemu.Bytes);
        Assert.Single(table.SpaRanges);
        Assert.True(table.SpaRanges[0].IsPersistentMemory);
        Assert.Equal(0x100000000UL, table.SpaRanges[0].Base);
        Assert.Equal(table.SpaRanges.Count, table.ControlRegions.Count);
        Assert.Equal(Convert.ToHexString(qemu.Bytes.AsSpan(NfitTable.HeaderSize)), Convert.ToHexString(table.ToFitBuffer()));
    }

    [Fact]
    public void DecodeCommandPrintsQemusTable()
    {
        using var d = new TempDir();
        File.WriteAllBytes(d.File("NFIT"), qemu.Bytes);
        var r = ProcessRunner.XenVnvdimm("tables", "--decode", d.File("NFIT"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("SPA range 2: base 0x100000000 length 0x1ffe0000 (persistent memory)", r.Stdout);
        Assert.Contains("Memory device: handle 0x1 spa 2 dcr 3", r.Stdout);
        Assert.Contains("serial 0x00123456 format 0x0301", r.Stdout);
    }
}

/// <summary>
/// Our NFIT against QEMU 7.2's, as stored in ../shared/reference/qemu-tables (no QEMU run needed).
/// </summary>
public class QemuReferenceTableTests
{
    [SharedReferenceFact]
    public void SubStructuresMatchTheStoredQemu72NfitByteForByte()
    {
        byte[] reference = SharedReference.QemuNfit();
        Assert.Equal(reference.Length, (int)BitConverter.ToUInt32(reference, 4)); // the file is one whole table
        QemuComparisonTests.AssertSameSubStructures(reference, QemuComparisonTests.OurNfitForQemusConfig());
    }

    [SharedReferenceFact]
    public void ParserRoundTripsTheStoredQemu72Nfit()
    {
        byte[] reference = SharedReference.QemuNfit();
        var table = NfitParser.Parse(reference);
        var spa = Assert.Single(table.SpaRanges);
        Assert.Equal((0x100000000UL, 0x1FFE0000UL), (spa.Base, spa.Length));
        Assert.Equal(Convert.ToHexString(reference.AsSpan(NfitTable.HeaderSize)), Convert.ToHexString(table.ToFitBuffer()));
    }
}

/// <summary>
/// Finds ../shared beside the repository: beside this checkout, or — in a git worktree — beside
/// the main clone the worktree belongs to. In CI (CI=true) a copy of shared/ sits beside the
/// clone, so there its absence is a failure; elsewhere the tests that need it are skipped.
/// </summary>
internal static class SharedReference
{
    public const string QemuNfitName = "reference/qemu-tables/qemu72-1dimm-512M-label128K-NFIT.bin";

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The directories looked at, in order.</summary>
    public static IReadOnlyList<string> Candidates { get; } = FindCandidates();

    /// <summary>Where the reference was looked for, for messages.</summary>
    public static string LookedIn => Candidates.Count > 0
        ? string.Join(", ", Candidates)
        : $"nowhere (no XenVnvdimm.sln above {AppContext.BaseDirectory})";

    /// <summary>The first candidate holding the reference NFIT, or null.</summary>
    public static string? Directory { get; } = Candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, QemuNfitName)));

    /// <summary>The stored QEMU 7.2 NFIT; fails with where it was looked for when it is absent.</summary>
    public static byte[] QemuNfit()
    {
        Assert.True(Directory is not null,
            $"{(InCi ? "CI=true, but " : "")}the reference table ../shared/{QemuNfitName} was not found; looked in: {LookedIn}");
        return File.ReadAllBytes(Path.Combine(Directory!, QemuNfitName));
    }

    private static List<string> FindCandidates()
    {
        var list = new List<string>();
        string? root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "XenVnvdimm.sln")))
            root = Path.GetDirectoryName(root.TrimEnd('/'));
        if (root is null)
            return list;
        list.Add(Path.GetFullPath(Path.Combine(root, "..", "shared")));
        // A worktree's .git is a file "gitdir: <main>/.git/worktrees/<name>" whose commondir leads to <main>/.git.
        string dotGit = Path.Combine(root, ".git");
        if (File.Exists(dotGit) && File.ReadAllText(dotGit).Trim() is var text && text.StartsWith("gitdir:", StringComparison.Ordinal))
        {
            string gitDir = Path.GetFullPath(text["gitdir:".Length..].Trim(), root);
            string commonFile = Path.Combine(gitDir, "commondir");
            string common = File.Exists(commonFile) ? Path.GetFullPath(File.ReadAllText(commonFile).Trim(), gitDir) : gitDir;
            string mainClone = Path.GetDirectoryName(common.TrimEnd('/'))!;
            string shared = Path.GetFullPath(Path.Combine(mainClone, "..", "shared"));
            if (!list.Contains(shared))
                list.Add(shared);
        }
        return list;
    }
}

/// <summary>A fact that needs ../shared: skipped outside CI when it is absent, run (and failing) in CI.</summary>
public sealed class SharedReferenceFactAttribute : FactAttribute
{
    public SharedReferenceFactAttribute()
    {
        if (SharedReference.Directory is null && !SharedReference.InCi)
            Skip = $"../shared/{SharedReference.QemuNfitName} is not beside the repository (looked in: {SharedReference.LookedIn}); CI=true makes this a failure";
    }
}
