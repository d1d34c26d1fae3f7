using System.Diagnostics;
using XenVnvdimm.Tests.Support;
using XenVnvdimm.XenStore;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.Tests;

/// <summary>
/// Debian's libxenstore clients (xenstore-utils) against the embedded server, with our client on the
/// other side of each exchange. Expected outputs follow the tools' documented formats.
/// </summary>
public sealed class DebianToolsTests : IAsyncLifetime
{
    private EmbeddedServer _server = null!;

    public Task InitializeAsync()
    {
        _server = new EmbeddedServer();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<ToolResult> Run(string tool, params string[] args) => Tool.RunAsync(tool, _server.SocketPath, args);

    [Fact]
    public async Task WriteReadListExistsRm_ProduceExpectedOutput()
    {
        (await Run("xenstore-write", "/test/a", "hello", "/test/b", "world")).AssertSuccess();

        Assert.Equal("hello\n", (await Run("xenstore-read", "/test/a")).AssertSuccess().Stdout);
        Assert.Equal("/test/a: hello\n/test/b: world\n", (await Run("xenstore-read", "-p", "/test/a", "/test/b")).AssertSuccess().Stdout);
        Assert.Equal("a\nb\n", (await Run("xenstore-list", "/test")).AssertSuccess().Stdout);
        Assert.Equal("/test/a\n/test/b\n", (await Run("xenstore-list", "-p", "/test")).AssertSuccess().Stdout);
        Assert.Equal(0, (await Run("xenstore-exists", "/test/a")).ExitCode);
        Assert.Equal(1, (await Run("xenstore-exists", "/test/nope")).ExitCode);

        (await Run("xenstore-rm", "/test/a")).AssertSuccess();
        Assert.Equal(1, (await Run("xenstore-exists", "/test/a")).ExitCode);
        Assert.Equal("b\n", (await Run("xenstore-list", "/test")).AssertSuccess().Stdout);

        var missing = await Run("xenstore-read", "/test/nope");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("couldn't read path /test/nope", missing.Stderr);
        Assert.Equal("", missing.Stdout);
    }

    [Fact]
    public async Task ToolsAndOurClient_SeeEachOthersWrites()
    {
        await using var client = await _server.ConnectAsync();
        (await Run("xenstore-write", "/x/from-tool", "tool value")).AssertSuccess();
        Assert.Equal("tool value", await client.ReadStringAsync("/x/from-tool"));

        await client.WriteAsync("/x/from-us", "our value");
        Assert.Equal("our value\n", (await Run("xenstore-read", "/x/from-us")).AssertSuccess().Stdout);

        // Binary bytes written by us come back escaped by the tool (sanitise_value: octal \NNN).
        await client.WriteAsync("/x/bin", new byte[] { (byte)'a', 1, (byte)'b' });
        Assert.Equal("a\\001b\n", (await Run("xenstore-read", "/x/bin")).AssertSuccess().Stdout);

        (await Run("xenstore-rm", "/x/from-us")).AssertSuccess();
        Assert.False(await client.ExistsAsync("/x/from-us"));
        Assert.Equal(["from-tool", "bin"], await client.ListAsync("/x"));
    }

    [Fact]
    public async Task Ls_PrintsTreeWithIndentationAndPermissions()
    {
        await using var client = await _server.ConnectAsync();
        await client.WriteAsync("/ls/x", "1");
        await client.WriteAsync("/ls/dir/y", "two");
        await client.SetPermissionsAsync("/ls/dir/y", XenStorePermissions.Parse("n0 r5"));

        var ls = (await Run("xenstore-ls", "/ls")).AssertSuccess();
        Assert.Equal("x = \"1\"\ndir = \"\"\n y = \"two\"\n", ls.Stdout);

        // -p pads each value line with ". " up to column 60, then the permissions.
        var lsp = (await Run("xenstore-ls", "-p", "/ls")).AssertSuccess();
        var lines = lsp.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal("x = \"1\" " + string.Concat(Enumerable.Repeat(" .", 26)) + "  (n0)", lines[0]);
        Assert.EndsWith("  (n0)", lines[1]);
        Assert.StartsWith(" y = \"two\" ", lines[2]);
        Assert.EndsWith("  (n0,r5)", lines[2]);
        Assert.All(lines, l => Assert.Equal(66 + (l.EndsWith("(n0,r5)") ? 3 : 0), l.Length));

        // -f prints full paths.
        var lsf = (await Run("xenstore-ls", "-f", "/ls")).AssertSuccess();
        Assert.Equal("/ls/x = \"1\"\n/ls/dir = \"\"\n/ls/dir/y = \"two\"\n", lsf.Stdout);
    }

    [Fact]
    public async Task Chmod_SetsPermissionsThatOurClientReadsAndTheServerEnforces()
    {
        await using var dom0 = await _server.ConnectAsync();
        await dom0.WriteAsync("/perm/node", "secret");
        await dom0.WriteAsync("/perm/node/child", "c");

        (await Run("xenstore-chmod", "/perm/node", "n0", "r5", "w7")).AssertSuccess();
        var perms = await dom0.GetPermissionsAsync("/perm/node");
        Assert.Equal(0, perms.Owner);
        Assert.Equal(XenStoreAccess.None, perms.Others);
        Assert.Equal([new XenStoreAclEntry(5, XenStoreAccess.Read), new XenStoreAclEntry(7, XenStoreAccess.Write)], perms.Acl);
        // The child kept what it inherited at creation; -r recurses.
        Assert.Equal("n0", (await dom0.GetPermissionsAsync("/perm/node/child")).ToString());
        (await Run("xenstore-chmod", "-r", "/perm/node", "b3")).AssertSuccess();
        Assert.Equal("b3", (await dom0.GetPermissionsAsync("/perm/node/child")).ToString());
        (await Run("xenstore-chmod", "/perm/node", "n0", "r5", "w7")).AssertSuccess();

        // Enforcement: dom5 reads only, dom7 writes only, dom9 nothing.
        await using var dom5 = await _server.ConnectAsDomainAsync(5);
        await using var dom7 = await _server.ConnectAsDomainAsync(7);
        await using var dom9 = await _server.ConnectAsDomainAsync(9);
        Assert.Equal("secret", await dom5.ReadStringAsync("/perm/node"));
        Assert.Equal(XenStoreErrno.EACCES, (await Assert.ThrowsAsync<XenStoreException>(() => dom5.WriteAsync("/perm/node", "x"))).Error);
        await dom7.WriteAsync("/perm/node", "from7");
        Assert.Equal(XenStoreErrno.EACCES, (await Assert.ThrowsAsync<XenStoreException>(() => dom7.ReadAsync("/perm/node"))).Error);
        Assert.Equal(XenStoreErrno.EACCES, (await Assert.ThrowsAsync<XenStoreException>(() => dom9.ReadAsync("/perm/node"))).Error);
        Assert.Equal("from7\n", (await Run("xenstore-read", "/perm/node")).AssertSuccess().Stdout);

        // A bad permission letter is the tool's own error; an unknown node is ours.
        Assert.NotEqual(0, (await Run("xenstore-chmod", "/perm/node", "x5")).ExitCode);
        Assert.NotEqual(0, (await Run("xenstore-chmod", "/perm/none", "n0")).ExitCode);
    }

    [Fact]
    public async Task Watch_FiresOnRegistrationAndOnAWriteByOurClient()
    {
        await using var client = await _server.ConnectAsync();
        await client.MkdirAsync("/w/node");
        var psi = Tool.StartInfo("xenstore-watch", _server.SocketPath, ["-n", "2", "/w/node"]);
        using var watcher = Process.Start(psi)!;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            // The first line is the registration event; after it, the watch is certainly in place.
            string? first = await watcher.StandardOutput.ReadLineAsync(timeout.Token);
            Assert.Equal("/w/node", first);
            await client.WriteAsync("/w/node/child", "v");
            string? second = await watcher.StandardOutput.ReadLineAsync(timeout.Token);
            Assert.Equal("/w/node/child", second);
            await watcher.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, watcher.ExitCode);
        }
        finally
        {
            if (!watcher.HasExited)
                watcher.Kill();
        }
    }

    [Fact]
    public async Task List_OfMoreThan4096Bytes_UsesDirectoryPart()
    {
        await using var client = await _server.ConnectAsync();
        var names = Enumerable.Range(0, 400).Select(i => $"child-with-a-long-name-{i:D4}").ToArray();
        foreach (var n in names)
            await client.MkdirAsync("/big/" + n);

        // 400 × 28 bytes > 4096: DIRECTORY answers E2BIG, and both libxenstore and our client fall
        // back to DIRECTORY_PART; children come in creation order.
        var list = (await Run("xenstore-list", "/big")).AssertSuccess();
        Assert.Equal(string.Concat(names.Select(n => n + "\n")), list.Stdout);
        Assert.Equal(names, await client.ListAsync("/big"));
    }

    [Fact]
    public async Task ManyToolProcessesAtOnce_AllServed()
    {
        // 24 libxenstore clients at once, each writing three keys in its own transaction.
        var runs = Enumerable.Range(0, 24).Select(i =>
            Run("xenstore-write", $"/conc/c{i}/a", "1", $"/conc/c{i}/b", "2", $"/conc/c{i}/c", "3"));
        foreach (var r in await Task.WhenAll(runs))
            r.AssertSuccess();
        await using var client = await _server.ConnectAsync();
        Assert.Equal(24, (await client.ListAsync("/conc")).Count);
        for (int i = 0; i < 24; i++)
            Assert.Equal(["a", "b", "c"], await client.ListAsync($"/conc/c{i}"));
    }

    [Fact]
    public async Task RmTidy_RemovesEmptyParents()
    {
        await using var client = await _server.ConnectAsync();
        await client.WriteAsync("/tidy/a/b/c", "v");
        await client.WriteAsync("/tidy/keep", "k");
        (await Run("xenstore-rm", "-t", "/tidy/a/b/c")).AssertSuccess();
        Assert.False(await client.ExistsAsync("/tidy/a"));
        Assert.Equal(["keep"], await client.ListAsync("/tidy"));
    }
}
