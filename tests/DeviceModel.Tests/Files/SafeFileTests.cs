using System.Diagnostics;
using XenVnvdimm.DeviceModel;
using XenVnvdimm.DeviceModel.Labels;
using XenVnvdimm.DeviceModel.Lifecycle;

namespace XenVnvdimm.Tests.Files;

/// <summary>
/// The companion's own files on a real filesystem: a symbolic link in the place of a label, journal,
/// lock, temporary or state file is refused (ELOOP) and what it points to stays as it was; a
/// directory others may write is refused naming it and its mode; what the companion creates is 0600
/// (files) and 0700 (directories), as stat(1) reports.
/// </summary>
public sealed class SafeFileTests : IDisposable
{
    private const int Size = 128 * 1024;
    private static readonly byte[] Secret = "root:$6$do-not-touch:19000:0:99999:7:::\n"u8.ToArray();
    private readonly string _dir = Directory.CreateTempSubdirectory("xvnd-safe-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string In(params string[] parts) => Path.Combine([_dir, .. parts]);

    /// <summary>A file standing for /etc/shadow, outside the label directory.</summary>
    private string Victim()
    {
        Directory.CreateDirectory(In("etc"));
        string victim = In("etc", "shadow");
        File.WriteAllBytes(victim, Secret);
        Chmod("640", victim);
        return victim;
    }

    private static void AssertUntouched(string victim)
    {
        Assert.Equal(Secret, File.ReadAllBytes(victim));
        Assert.Equal("640", Stat("%a", victim));
    }

    [Theory]
    [InlineData("")]
    [InlineData(".journal")]
    [InlineData(".lock")]
    public void ALinkInPlaceOfALabelFileOrASiblingIsRefusedAndItsTargetUntouched(string suffix)
    {
        string victim = Victim();
        Directory.CreateDirectory(In("labels"));
        string label = In("labels", "guest.label");
        if (suffix != "")
        {
            // The label exists, so only the sibling's link is in the way.
            using (FileLabelStore.Open(label, Size)) { }
            File.Delete(label + suffix);
        }
        File.CreateSymbolicLink(label + suffix, victim);

        var e = Assert.Throws<UserErrorException>(() => FileLabelStore.Open(label, Size));
        Assert.Equal($"refusing to open {label + suffix}: it is a symbolic link (ELOOP); the companion's files are never opened through a link", e.Message);
        AssertUntouched(victim);
        Assert.NotNull(new FileInfo(label + suffix).LinkTarget);
    }

    [Fact]
    public void ADanglingLinkInPlaceOfANewLabelIsRefusedNotReplaced()
    {
        string target = In("nowhere");
        string label = In("guest.label");
        File.CreateSymbolicLink(label, target);

        var e = Assert.Throws<UserErrorException>(() => FileLabelStore.Open(label, Size));
        Assert.Contains("symbolic link (ELOOP)", e.Message);
        Assert.False(File.Exists(target));
        Assert.Equal(target, new FileInfo(label).LinkTarget);
    }

    [Fact]
    public void ALinkLeftAsTheTemporaryFileIsRemovedNotFollowed()
    {
        string victim = Victim();
        string label = In("guest.label");
        File.CreateSymbolicLink(label + ".new", victim);

        using (FileLabelStore.Open(label, Size)) { }

        AssertUntouched(victim);
        Assert.Equal(new byte[Size], File.ReadAllBytes(label));
        Assert.False(Path.Exists(label + ".new"));
    }

    [Fact]
    public void ALinkInPlaceOfTheStateFileIsRefusedAndItsTargetUntouched()
    {
        string victim = Victim();
        string state = In("run");
        Directory.CreateDirectory(state);
        File.CreateSymbolicLink(Path.Combine(state, "7.state"), victim);

        var e = Assert.Throws<UserErrorException>(() => CompanionStateFile.Acquire(state, 7, "sim"));
        Assert.Contains($"refusing to open {Path.Combine(state, "7.state")}: it is a symbolic link (ELOOP)", e.Message);
        AssertUntouched(victim);
    }

    [Theory]
    [InlineData("770", "0770")]
    [InlineData("722", "0722")]
    [InlineData("1777", "1777")] // sticky /tmp-style: others still plant names
    public void ADirectoryOthersMayWriteIsRefusedNamingItAndItsMode(string chmod, string shown)
    {
        string dir = In("shared");
        Directory.CreateDirectory(dir);
        Chmod(chmod, dir);
        string label = Path.Combine(dir, "guest.label");

        var e = Assert.Throws<UserErrorException>(() => FileLabelStore.Open(label, Size));
        Assert.Equal($"refusing to keep files in {dir}: the directory (mode {shown}, uid 0) is writable by group or others; it must be root's and writable only by root (e.g. 0700)", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(dir));

        var s = Assert.Throws<UserErrorException>(() => CompanionStateFile.Acquire(dir, 7, "sim"));
        Assert.StartsWith($"refusing to keep files in {dir}: the directory (mode {shown}", s.Message);
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void ADirectoryOfAnotherUserIsRefused()
    {
        string dir = In("theirs");
        Directory.CreateDirectory(dir);
        Chmod("700", dir);
        Run("chown", "65534", dir);

        var e = Assert.Throws<UserErrorException>(() => FileLabelStore.Open(Path.Combine(dir, "guest.label"), Size));
        Assert.Equal($"refusing to keep files in {dir}: the directory (mode 0700, uid 65534) is owned by uid 65534, not root; it must be root's and writable only by root (e.g. 0700)", e.Message);
    }

    [Fact]
    public void CreatedFilesAre0600AndCreatedDirectories0700()
    {
        string label = In("var", "lib", "labels", "0000abcd.label");
        using (var store = FileLabelStore.Open(label, Size))
            store.Write(0, [1, 2, 3]);
        foreach (string f in new[] { label, label + ".journal", label + ".lock" })
            Assert.Equal("600", Stat("%a", f));
        foreach (string d in new[] { In("var"), In("var", "lib"), In("var", "lib", "labels") })
            Assert.Equal("700", Stat("%a", d));

        string run = In("run", "xen-vnvdimm");
        using (CompanionStateFile.Acquire(run, 9, "sim"))
        {
            Assert.Equal("600", Stat("%a", Path.Combine(run, "9.state")));
            Assert.Equal("700", Stat("%a", run));
        }
    }

    [Fact]
    public void AStateFileAnEarlierVersionLeft0644Becomes0600()
    {
        string run = In("run");
        Directory.CreateDirectory(run);
        Chmod("755", run); // the mode earlier versions created it with: not writable by others, accepted
        string path = Path.Combine(run, "4.state");
        File.WriteAllText(path, "");
        Chmod("644", path);

        using (CompanionStateFile.Acquire(run, 4, "sim"))
            Assert.Equal("600", Stat("%a", path));
    }

    [Fact]
    public void TheStateFileLockStillRefusesASecondCompanion()
    {
        string run = In("run");
        using var first = CompanionStateFile.Acquire(run, 3, "sim");
        var e = Assert.Throws<UserErrorException>(() => CompanionStateFile.Acquire(run, 3, "sim"));
        Assert.Contains("domain 3 is already served by a running companion", e.Message);
    }

    private static string Stat(string format, string path) => Run("stat", "-c", format, path).Trim();

    private static void Chmod(string mode, string path) => Run("chmod", mode, path);

    private static string Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{tool} {string.Join(' ', args)}: {error}");
        return output;
    }
}
