using System.Diagnostics;
using System.Net.Sockets;
using XenVnvdimm.Tests.Support;
using XenVnvdimm.XenStore.Client;

namespace XenVnvdimm.Tests;

/// <summary><c>xen-vnvdimm xenstored</c> as a process: serves Debian's tools, dumps, stops on SIGTERM, refuses bad use.</summary>
public sealed class XenstoredCommandTests
{
    [Fact]
    public async Task ServesTools_DumpsTree_AndStopsCleanlyOnSigterm()
    {
        using var dir = new TempSocket();
        string dump = Path.Combine(dir.Directory, "tree.txt");
        using var server = Process.Start(XenVnvdimmProgram.StartInfo("xenstored", "--socket", dir.Path, "--dump", dump))!;
        try
        {
            await WaitUntilListening(dir.Path, server);
            await Tool.RunAsync("xenstore-write", dir.Path, "/cli/node", "v");
            (await Tool.RunAsync("xenstore-chmod", dir.Path, "/cli/node", "n0", "r2")).AssertSuccess();
            Assert.Equal("v\n", (await Tool.RunAsync("xenstore-read", dir.Path, "/cli/node")).AssertSuccess().Stdout);

            await using (var client = await XenStoreClient.ConnectAsync(dir.Path))
            {
                await client.ControlAsync("dump", []);
                Assert.Contains("/cli/node = \"v\" (n0 r2)\n", File.ReadAllText(dump));
                await client.WriteAsync("/cli/late", "after dump");
            }

            Process.Start("kill", ["-TERM", server.Id.ToString()])!.WaitForExit();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await server.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, server.ExitCode);
            // The exit dump has what came after the control dump; the socket is gone.
            string text = File.ReadAllText(dump);
            Assert.StartsWith("/ = \"\" (n0)\n", text);
            Assert.Contains("/cli/late = \"after dump\" (n0)\n", text);
            Assert.False(File.Exists(dir.Path));
        }
        finally
        {
            if (!server.HasExited)
                server.Kill();
        }
    }

    [Fact]
    public async Task MissingSocketOption_IsAUserError()
    {
        var r = await XenVnvdimmProgram.RunAsync("xenstored");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("xen-vnvdimm xenstored: error: missing required option --socket (try 'xen-vnvdimm xenstored --help')\n", r.Stderr);
    }

    [Fact]
    public async Task BadQuota_IsAUserError()
    {
        using var dir = new TempSocket();
        var r = await XenVnvdimmProgram.RunAsync("xenstored", "--socket", dir.Path, "--quota-watches", "lots");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--quota-watches lots", r.Stderr);
    }

    [Fact]
    public async Task DumpIntoMissingDirectory_IsAUserError()
    {
        using var dir = new TempSocket();
        var r = await XenVnvdimmProgram.RunAsync("xenstored", "--socket", dir.Path, "--dump", Path.Combine(dir.Directory, "no", "tree.txt"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--dump", r.Stderr);
        Assert.False(File.Exists(dir.Path)); // refused before binding
    }

    [Fact]
    public async Task SocketInUse_IsAUserError()
    {
        await using var running = new EmbeddedServer();
        var r = await XenVnvdimmProgram.RunAsync("xenstored", "--socket", running.SocketPath);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("another xenstored is listening", r.Stderr);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        // And the running server was not disturbed.
        await using var client = await running.ConnectAsync();
        await client.WriteAsync("/still", "here");
    }

    private static async Task WaitUntilListening(string path, Process server)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (server.HasExited)
                throw new Xunit.Sdk.XunitException($"xenstored exited early ({server.ExitCode}): {await server.StandardError.ReadToEndAsync()}");
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await probe.ConnectAsync(new UnixDomainSocketEndPoint(path));
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new Xunit.Sdk.XunitException("xenstored did not start listening within 20 s");
    }
}
