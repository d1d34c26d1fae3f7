using System.IO.Compression;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// scripts/package builds a Debian package an administrator can install on a dom0 without .NET:
/// the expected files at their paths, Depends on libc6 alone, no lintian error, and its program runs
/// in a root that holds nothing but that executable and the C libraries it links.
/// </summary>
public class DebianPackageTests
{
    private static readonly Lazy<string> s_deb = new(() =>
    {
        var r = ProcessRunner.Run(Path.Combine(GuestRunner.RepoRoot, "scripts", "package"), [], timeoutSeconds: 1800);
        Assert.True(r.ExitCode == 0, $"scripts/package: {r}");
        string deb = r.Stdout.Trim().Split('\n')[^1];
        Assert.True(File.Exists(deb), $"scripts/package printed '{deb}', which does not exist");
        return deb;
    });

    [Fact]
    public void ThePackageHoldsTheProgramWrapperHarnessManPageExampleAndTmpfiles()
    {
        var contents = ProcessRunner.Run("dpkg-deb", ["-c", s_deb.Value]);
        Assert.True(contents.ExitCode == 0, contents.ToString());
        var paths = contents.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(" -> ")[0].Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]).ToHashSet();
        string[] expected =
        [
            "./usr/sbin/xen-vnvdimm", "./usr/bin/xen-vnvdimm", "./usr/lib/xen-vnvdimm/guest/run", "./usr/lib/xen-vnvdimm/guest/build-initramfs",
            "./usr/lib/xen-vnvdimm/guest/init.sh", "./usr/share/man/man8/xen-vnvdimm.8.gz",
            "./usr/share/doc/xen-vnvdimm/examples/guest.cfg", "./usr/share/doc/xen-vnvdimm/copyright",
            "./usr/share/doc/xen-vnvdimm/changelog.gz", "./usr/lib/tmpfiles.d/xen-vnvdimm.conf",
        ];
        foreach (string p in expected)
            Assert.Contains(p, paths);
        if (File.Exists(Path.Combine(GuestRunner.RepoRoot, "scripts", "qemu-dm")))
            Assert.Contains("./usr/lib/xen-vnvdimm/qemu-dm", paths);
        // Nothing of .NET's beside the one executable.
        Assert.DoesNotContain(paths, p => p.EndsWith(".dll", StringComparison.Ordinal) || p.Contains("dotnet", StringComparison.Ordinal));

        var info = ProcessRunner.Run("dpkg-deb", ["-f", s_deb.Value, "Depends"]);
        Assert.Matches(@"^libc6 \(>= [0-9.]+\)$", info.Stdout.Trim());

        using var d = new TempDir();
        Assert.Equal(0, ProcessRunner.Run("dpkg-deb", ["-x", s_deb.Value, d.Path]).ExitCode);
        string tmpfiles = File.ReadAllText(d.File("usr/lib/tmpfiles.d/xen-vnvdimm.conf"));
        Assert.Matches(@"(?m)^d /run/xen-vnvdimm 0750 root root -$", tmpfiles);
        Assert.Matches(@"(?m)^d /var/lib/xen-vnvdimm 0750 root root -$", tmpfiles);
        using var man = new StreamReader(new GZipStream(File.OpenRead(d.File("usr/share/man/man8/xen-vnvdimm.8.gz")), CompressionMode.Decompress));
        string page = man.ReadToEnd();
        Assert.StartsWith(".TH XEN-VNVDIMM 8", page);
        Assert.Contains(".SS tables", page);
        if (File.Exists(d.File("usr/lib/xen-vnvdimm/qemu-dm")))
            Assert.Contains("/usr/sbin/xen-vnvdimm", File.ReadAllText(d.File("usr/lib/xen-vnvdimm/qemu-dm")));
    }

    [Fact]
    public void LintianReportsNoError()
    {
        var r = ProcessRunner.Run("lintian", ["--tag-display-limit", "0", s_deb.Value], timeoutSeconds: 600);
        Assert.DoesNotMatch("(?m)^E: ", r.Stdout + r.Stderr);
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    [Fact]
    public void TheProgramRunsInARootWithoutDotnet()
    {
        using var d = new TempDir();
        Assert.Equal(0, ProcessRunner.Run("dpkg-deb", ["-x", s_deb.Value, d.File("pkg")]).ExitCode);
        string exe = d.File("pkg/usr/sbin/xen-vnvdimm");
        var ldd = ProcessRunner.Run("ldd", [exe]);
        Assert.DoesNotMatch("libcoreclr|libhostfxr|libclrjit|libSystem", ldd.Stdout);

        // A root holding only the executable, the libraries ldd names and a config with its backing.
        string root = d.File("root");
        Directory.CreateDirectory(Path.Combine(root, "usr/sbin"));
        File.Copy(exe, Path.Combine(root, "usr/sbin/xen-vnvdimm"));
        Assert.Equal(0, ProcessRunner.Run("chmod", ["0755", Path.Combine(root, "usr/sbin/xen-vnvdimm")]).ExitCode);
        foreach (var lib in ldd.Stdout.Split('\n').Select(l => l.Trim().Split(' ')).Where(f => f.Length > 0))
        {
            string? path = lib.FirstOrDefault(f => f.StartsWith('/'));
            if (path is null)
                continue;
            string target = Path.Combine(root, path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(path, target, overwrite: true);
        }
        Directory.CreateDirectory(Path.Combine(root, "srv"));
        using (var f = File.Create(Path.Combine(root, "srv/a.img")))
            f.Write(new byte[4 << 20]);
        File.WriteAllText(Path.Combine(root, "srv/vm.cfg"), "vnvdimms = [ 'backend=/srv/a.img, label_size=0' ]\nvnvdimm_slots = 2\n");
        Assert.Empty(Directory.GetFiles(root, "*coreclr*", SearchOption.AllDirectories));

        var help = Chroot(root, "/usr/sbin/xen-vnvdimm", "tables", "--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.Contains("--config", help.Stdout);
        var tables = Chroot(root, "/usr/sbin/xen-vnvdimm", "tables", "--config", "/srv/vm.cfg", "--out", "/srv/t");
        Assert.True(tables.ExitCode == 0, tables.ToString());
        Assert.True(new FileInfo(Path.Combine(root, "srv/t/acpi_firmware.bin")).Length > 0);
        var bad = Chroot(root, "/usr/sbin/xen-vnvdimm", "tables", "--confg", "/srv/vm.cfg");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("did you mean '--config'?", bad.Stderr);
        // The label journal's hash runs too: .NET's SHA-256 would need a libssl the root lacks.
        var labels = Chroot(root, "/usr/sbin/xen-vnvdimm", "label-torture", "--label", "/srv/l.label", "--size", "131072", "--seed", "7", "--start", "0", "--count", "20");
        Assert.True(labels.ExitCode == 0, labels.ToString());
        Assert.Equal(131072, new FileInfo(Path.Combine(root, "srv/l.label")).Length);
        var abi = Chroot(root, "/usr/sbin/xen-vnvdimm", "abi", "--json");
        Assert.True(abi.ExitCode == 0, abi.ToString());
        Assert.Contains("\"xen_pmem_map\"", abi.Stdout);
    }

    private static ProcessResult Chroot(string root, params string[] argv) =>
        ProcessRunner.Run("chroot", [root, .. argv], envs: [("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), ("DOTNET_ROOT", ""), ("HOME", "/")]);
}
