using XenVnvdimm.DeviceModel.Claims;
using XenVnvdimm.DeviceModel.Cli;
using Xunit;

namespace XenVnvdimm.Tests.Claims;

/// <summary>The command line: run refuses --assume-spa-base on xen; gc reaps claims whose domains are gone.</summary>
[Collection("Console")]
public sealed class ClaimCliTests
{
    private static (int Code, string Stdout, string Stderr) Cli(params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            return (CommandTable.Dispatch(args), o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    [Fact]
    public void AssumeSpaBaseIsRefusedOnXenBeforeAnythingIsTouched()
    {
        var (code, _, stderr) = Cli("run", "--platform", "xen", "--domid", "5", "--config", "/nonexistent/vm.cfg", "--assume-spa-base", "0x100000000");
        Assert.Equal(2, code);
        Assert.Equal("xen-vnvdimm run: error: --assume-spa-base '0x100000000' is for --platform sim only: on xen every frame must be host pmem", stderr.Trim());
    }

    [Fact]
    public void GcReapsClaimsOfDomainsThatAreGone()
    {
        string dir = Path.Combine(Directory.CreateTempSubdirectory("xvn-gc-").FullName, "claims");
        try
        {
            // Domains 31000 and 31001 have no simulated hypervisor anywhere: gone.
            var registry = new ClaimRegistry(dir, new TestLiveness());
            registry.Claim(ClaimRegistryTests.Request(31000, 0, "/pmem/a", (0x100000, 0x10)));
            registry.Claim(ClaimRegistryTests.Request(31001, 2, "/pmem/b", (0x200000, 0x10)));
            var (code, stdout, _) = Cli("gc", "--platform", "sim", "--claims-dir", dir);
            Assert.Equal(0, code);
            Assert.Equal(
                ["released frames 0x100000000-0x10000ffff of dom31000 slot 0 (backend /pmem/a)",
                 "released frames 0x200000000-0x20000ffff of dom31001 slot 2 (backend /pmem/b)"],
                stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Empty(registry.List());
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
        }
    }

    [Fact]
    public void InspectShowsWhichGuestMapsAFileAndWhoSetItsFlag()
    {
        using var fs = new XenVnvdimm.Tests.Backing.Support.LoopFilesystem("ext4", 128);
        string f = fs.PathOf("guest.img");
        XenVnvdimm.Tests.Backing.Support.FileMaker.Write(f, 4L << 20);
        string dir = Path.Combine(fs.MountPoint, "claims");
        using (var r = DeviceModel.Backing.BackingResolver.Resolve(f, new() { AssumeSpaBase = 0x1_0000_0000, Lock = DeviceModel.Backing.BackingLockMode.Exclusive }))
            new MapGuard(new ClaimRegistry(dir, new TestLiveness()), 5, "dom5@test", null).Admit(r, 1, f, [.. r.FrameRuns()]);
        try
        {
            var (code, stdout, _) = Cli("inspect", f, "--json", "--summary", "--assume-spa-base", "0x100000000", "--claims-dir", dir);
            Assert.Equal(0, code);
            var pinning = System.Text.Json.JsonDocument.Parse(stdout).RootElement.GetProperty("pinning");
            Assert.True(pinning.GetProperty("immutable").GetBoolean());
            Assert.Equal($"dom5 slot 1 (backend {f})", pinning.GetProperty("claimedBy").GetString());
            Assert.True(pinning.GetProperty("pinnedByCompanion").GetBoolean());
        }
        finally
        {
            new ClaimRegistry(dir, new TestLiveness()).Release(5);
        }
    }
}
