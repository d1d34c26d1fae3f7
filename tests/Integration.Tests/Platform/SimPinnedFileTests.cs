using System.Security.Cryptography;
using XenVnvdimm.Tests.Backing.Support;
using XenVnvdimm.XenStore.Client;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// A file a companion has mapped into a (simulated) guest, on real loop-mounted ext4 and XFS: while the
/// domain lives, the host's own tools cannot free, move, replace or dedupe its blocks — judged by their
/// error text, by filefrag's extents, by the data's digest and by the guest's p2m — and once the domain
/// is released the same tools work again. (xfs_fsr skips an immutable file silently; its refusal is
/// shown with a fragmented file and an unpinned control in PinningTests.)
/// </summary>
public class SimPinnedFileTests
{
    private static string Md5(string path) => Convert.ToHexString(MD5.HashData(File.ReadAllBytes(path)));

    private static string Extents(string path) => Shell.Run("filefrag", "-v", path);

    private static string P2m(SimCompanion c) =>
        string.Join(";", c.Domain.P2m.Ranges.Select(r => $"{r.Start:x}+{r.Count:x}>{r.Value.Mfn:x}/{r.Value.Type}"));

    [Theory]
    [InlineData("ext4", 151)]
    [InlineData("xfs", 152)]
    public async Task TheHostsToolsCannotTouchAMappedFileUntilItsDomainIsGone(string fs, ushort domid)
    {
        using var loop = new LoopFilesystem(fs, 320); // mkfs.xfs wants more than 300 MB
        using var d = new TempDir();
        string a = loop.PathOf("a.img"), same = loop.PathOf("same.img");
        FileMaker.Write(a, 16 << 20, seed: 7);
        FileMaker.Write(same, 16 << 20, seed: 7); // same seed, same bytes: a dedupe candidate
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={a}, label_size=0' ]\n");
        string sock = d.File("xs.sock");
        using var xenstored = await EmbeddedXenstored.StartAsync(sock);
        using var companion = await SimCompanion.StartAsync(d.File("vm.cfg"), domid, sock, SimCompanion.OwnDeviceSpaBase(domid));
        await using var xs = await XenStoreClient.ConnectAsync(sock);
        string md5 = Md5(a), extents = Extents(a), p2m = P2m(companion);
        Assert.Equal(md5, Md5(same));

        Shell.Refused("truncate", "-s", "0", a);
        Shell.Refused("fallocate", "--punch-hole", "--offset", "0", "--length", "1048576", a);
        Shell.Refused("rm", "-f", a);
        Shell.Refused("mv", a, loop.PathOf("moved.img"));
        string dedupe = $"dedupe {same} 0 0 1048576";
        if (fs == "ext4")
        {
            Shell.Refused("e4defrag", "-v", a);
        }
        else
        {
            Shell.Refused("cp", "--reflink=always", same, a);
            // xfs_io exits 0 whatever its command did: judged by what it printed.
            var (_, stdout, stderr) = Shell.Run("xfs_io", ["-r", "-c", dedupe, a], check: false);
            Assert.Contains("Operation not permitted", stdout + stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("deduped", stdout, StringComparison.Ordinal);
        }
        Assert.Equal(md5, Md5(a));
        Assert.Equal(extents, Extents(a));
        Assert.Equal(p2m, P2m(companion));
        Assert.False(companion.Run.IsCompleted, "the companion stopped serving");

        await companion.ReleaseAndAssertNothingLeftAsync(xs);
        // Control: the domain gone, the same tools work on the same file.
        if (fs == "xfs")
            Assert.Contains("deduped 1048576/1048576", Shell.Run("xfs_io", "-r", "-c", dedupe, a), StringComparison.Ordinal);
        Shell.Run("truncate", "-s", "0", a);
        Assert.Equal(0, new FileInfo(a).Length);
    }
}
