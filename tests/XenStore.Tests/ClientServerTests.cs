using XenVnvdimm.Tests.Support;
using XenVnvdimm.XenStore;
using XenVnvdimm.XenStore.Client;
using XenVnvdimm.XenStore.Server;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.Tests;

/// <summary>Our client against the embedded server: the protocol's semantics, end to end.</summary>
public sealed class ClientServerTests : IAsyncLifetime
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);
    private EmbeddedServer _server = null!;
    private XenStoreClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = new EmbeddedServer(new XenStoreServerOptions { NodeSizeQuota = 64, WatchQuota = 3, TransactionQuota = 2 });
        _client = await _server.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    private static async Task<XenStoreErrno> ErrorOf(Func<Task> action) =>
        (await Assert.ThrowsAsync<XenStoreException>(action)).Error;

    [Fact]
    public async Task ReadWriteMkdirRmList()
    {
        await _client.WriteAsync("/a/b/c", "value");
        Assert.Equal("value", await _client.ReadStringAsync("/a/b/c"));
        Assert.Equal("", await _client.ReadStringAsync("/a/b")); // parents are created empty
        await _client.MkdirAsync("/a/d");
        await _client.MkdirAsync("/a/b"); // existing: no error, value kept
        Assert.Equal(["b", "d"], await _client.ListAsync("/a"));
        Assert.Equal([], await _client.ListAsync("/a/d"));

        await _client.RemoveAsync("/a/b");
        Assert.Equal(["d"], await _client.ListAsync("/a"));
        Assert.Equal(XenStoreErrno.ENOENT, await ErrorOf(() => _client.ReadAsync("/a/b/c")));
        await _client.RemoveAsync("/a/b");                       // missing node, parent exists: fine
        Assert.Equal(XenStoreErrno.ENOENT, await ErrorOf(() => _client.RemoveAsync("/a/x/y"))); // parent missing
        Assert.Equal(XenStoreErrno.EINVAL, await ErrorOf(() => _client.RemoveAsync("/")));
        Assert.Null(await _client.TryReadStringAsync("/nope"));
    }

    [Fact]
    public async Task BinaryValuesAndEmptyValuesRoundTrip()
    {
        byte[] value = [0, 1, 2, 0, 255];
        await _client.WriteAsync("/bin", value);
        Assert.Equal(value, await _client.ReadAsync("/bin"));
        await _client.WriteAsync("/empty", "");
        Assert.Empty(await _client.ReadAsync("/empty"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/a//b")]
    [InlineData("/a/")]
    [InlineData("/a b")]
    [InlineData("/a\u00e9")]
    public async Task InvalidPaths_AreEinval(string path)
    {
        Assert.Equal(XenStoreErrno.EINVAL, await ErrorOf(() => _client.WriteAsync(path, "v")));
    }

    [Fact]
    public async Task PathLimits_AreEnforced()
    {
        string longest = "/" + new string('a', XsLimits.AbsolutePathMax - 1);
        await _client.MkdirAsync(longest);
        Assert.Equal(XenStoreErrno.EINVAL, await ErrorOf(() => _client.MkdirAsync(longest + "b")));
        // A request above the payload limit never leaves the client.
        Assert.Equal(XenStoreErrno.E2BIG, await ErrorOf(() => _client.WriteAsync("/big", new byte[XsLimits.PayloadMax])));
        Assert.Null(_client.Failure);
    }

    [Fact]
    public async Task DomainPathAndIntroduced()
    {
        Assert.Equal("/local/domain/7", await _client.GetDomainPathAsync(7));
        Assert.True(await _client.IsDomainIntroducedAsync(0));
        Assert.False(await _client.IsDomainIntroducedAsync(7));
        await _client.ControlAsync("introduce", ["7"]);
        Assert.True(await _client.IsDomainIntroducedAsync(7));
    }

    [Fact]
    public async Task Watch_FiresOnRegistrationThenOnChangesBelowInOrder()
    {
        await using var watch = await _client.WatchAsync("/w");
        Assert.Equal(new XenStoreWatchEvent("/w", watch.Token), await Next(watch));
        await _client.WriteAsync("/w/a", "1");
        await _client.WriteAsync("/w/b/c", "2");
        await _client.WriteAsync("/w", "3");
        await _client.WriteAsync("/other", "x");       // not below /w
        await _client.WriteAsync("/wx", "x");          // a prefix, not a child
        await _client.SetPermissionsAsync("/w/a", XenStorePermissions.Parse("n0 r1"));
        await _client.RemoveAsync("/w/b");
        Assert.Equal("/w/a", (await Next(watch)).Path);
        Assert.Equal("/w/b/c", (await Next(watch)).Path);
        Assert.Equal("/w", (await Next(watch)).Path);
        Assert.Equal("/w/a", (await Next(watch)).Path);
        Assert.Equal("/w/b", (await Next(watch)).Path);
        Assert.False(watch.Events.TryRead(out var extra), $"unexpected event {extra}");
    }

    [Fact]
    public async Task Watch_OnANodeRemovedWithItsParent_FiresWithTheWatchedPath()
    {
        await _client.WriteAsync("/p/q/r", "v");
        await using var watch = await _client.WatchAsync("/p/q/r");
        await Next(watch);
        await _client.RemoveAsync("/p");
        Assert.Equal("/p/q/r", (await Next(watch)).Path);
    }

    [Fact]
    public async Task Watch_DisposedStopsEvents_AndUnwatchIsSentToTheServer()
    {
        var first = await _client.WatchAsync("/d", "tok");
        await Next(first);
        await first.DisposeAsync();
        await _client.WriteAsync("/d/x", "1");
        // The same token can be registered again only if the server forgot the old watch.
        await using var second = await _client.WatchAsync("/d", "tok");
        Assert.Equal("/d", (await Next(second)).Path);
        await _client.WriteAsync("/d/y", "1");
        Assert.Equal("/d/y", (await Next(second)).Path);
        Assert.True(first.Events.Completion.IsCompleted);
    }

    [Fact]
    public async Task SpecialWatches_FireOnIntroduceAndRelease()
    {
        await using var intro = await _client.WatchAsync("@introduceDomain");
        await using var release = await _client.WatchAsync("@releaseDomain");
        Assert.Equal("@introduceDomain", (await Next(intro)).Path);
        Assert.Equal("@releaseDomain", (await Next(release)).Path);

        await _client.ControlAsync("introduce", ["12"]);
        Assert.Equal("@introduceDomain", (await Next(intro)).Path);
        await _client.ControlAsync("release", ["12"]);
        Assert.Equal("@releaseDomain", (await Next(release)).Path);
        Assert.False(await _client.IsDomainIntroducedAsync(12));
        Assert.Equal(XenStoreErrno.ENOENT, await ErrorOf(() => _client.ControlAsync("release", ["12"])));

        // The in-process API does the same for a host program.
        _server.Server.IntroduceDomain(13);
        Assert.Equal("@introduceDomain", (await Next(intro)).Path);
        Assert.True(_server.Server.ReleaseDomain(13));
        Assert.Equal("@releaseDomain", (await Next(release)).Path);
        // Not writable nodes, but they have permissions (libxl opens them to stubdoms).
        Assert.Equal(XenStoreErrno.EINVAL, await ErrorOf(() => _client.WriteAsync("@releaseDomain", "x")));
        Assert.Equal("n0", (await _client.GetPermissionsAsync("@releaseDomain")).ToString());
        await _client.SetPermissionsAsync("@releaseDomain", XenStorePermissions.Parse("n0 r4"));
        Assert.Equal("n0 r4", (await _client.GetPermissionsAsync("@releaseDomain")).ToString());
    }

    [Fact]
    public async Task ResetWatches_DropsWatchesAndTransactions()
    {
        await using var watch = await _client.WatchAsync("/r");
        await Next(watch);
        var tx = await _client.BeginTransactionAsync();
        await tx.WriteAsync("/r/in-tx", "1");
        await _client.ResetWatchesAsync();
        await _client.WriteAsync("/r/after", "1");
        Assert.Equal(XenStoreErrno.ENOENT, await ErrorOf(() => tx.CommitAsync()));
        Assert.False(await _client.ExistsAsync("/r/in-tx"));
        Assert.False(watch.Events.TryRead(out var e), $"event after reset: {e}");
    }

    [Fact]
    public async Task Transaction_IsIsolatedUntilCommit_AndFiresWatchesAtCommit()
    {
        await using var other = await _server.ConnectAsync();
        await using var watch = await other.WatchAsync("/t");
        await Next(watch);
        var tx = await _client.BeginTransactionAsync();
        await tx.WriteAsync("/t/x", "1");
        await tx.WriteAsync("/t/y", "2");
        Assert.Equal("1", await tx.ReadStringAsync("/t/x"));
        Assert.Equal(["x", "y"], await tx.ListAsync("/t"));
        Assert.False(await other.ExistsAsync("/t/x"));
        Assert.False(watch.Events.TryRead(out _));
        await tx.CommitAsync();
        Assert.Equal("2", await other.ReadStringAsync("/t/y"));
        Assert.Equal("/t/x", (await Next(watch)).Path);
        Assert.Equal("/t/y", (await Next(watch)).Path);
    }

    [Fact]
    public async Task Transaction_Abort_LeavesNoTrace()
    {
        await using (var tx = await _client.BeginTransactionAsync())
        {
            await tx.WriteAsync("/ab/x", "1");
            await tx.RemoveAsync("/tool");
        } // disposed without commit: aborted
        Assert.False(await _client.ExistsAsync("/ab"));
        Assert.True(await _client.ExistsAsync("/tool/xenstored"));
    }

    [Fact]
    public async Task Transaction_ConflictingWrite_IsEagain()
    {
        await using var other = await _server.ConnectAsync();
        await _client.WriteAsync("/c/x", "0");
        var tx = await _client.BeginTransactionAsync();
        string v = await tx.ReadStringAsync("/c/x");
        await tx.WriteAsync("/c/y", v + "+1");
        await other.WriteAsync("/c/x", "changed");
        Assert.Equal(XenStoreErrno.EAGAIN, await ErrorOf(() => tx.CommitAsync()));
        Assert.False(await _client.ExistsAsync("/c/y"));

        // Unrelated writes do not conflict.
        var tx2 = await _client.BeginTransactionAsync();
        await tx2.ReadStringAsync("/c/x");
        await tx2.WriteAsync("/c/y", "ok");
        await other.WriteAsync("/elsewhere", "z");
        await tx2.CommitAsync();
        Assert.Equal("ok", await other.ReadStringAsync("/c/y"));
    }

    [Fact]
    public async Task TransactionHelper_RetriesOnConflict_ThenSucceeds()
    {
        await using var other = await _server.ConnectAsync();
        await _client.WriteAsync("/counter", "0");
        int attempts = 0;
        int result = await _client.TransactionAsync(async (tx, ct) =>
        {
            attempts++;
            int n = int.Parse(await tx.ReadStringAsync("/counter", ct));
            if (attempts <= 2)
                await other.WriteAsync("/counter", (n + 10).ToString()); // someone else gets in first
            await tx.WriteAsync("/counter", (n + 1).ToString(), ct);
            return n + 1;
        });
        Assert.Equal(3, attempts);
        Assert.Equal(21, result);
        Assert.Equal("21", await _client.ReadStringAsync("/counter"));
    }

    [Fact]
    public async Task TransactionHelper_GivesUpAfterItsBound()
    {
        await using var client = await _server.ConnectAsync(new XenStoreClientOptions { MaxTransactionAttempts = 3 });
        await using var other = await _server.ConnectAsync();
        int attempts = 0;
        var e = await Assert.ThrowsAsync<XenStoreException>(() => client.TransactionAsync(async (tx, ct) =>
        {
            attempts++;
            await tx.ReadAsync("/tool", ct);
            await other.WriteAsync("/tool", attempts.ToString());
        }));
        Assert.Equal(XenStoreErrno.EAGAIN, e.Error);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task TransactionHelper_BodyFailure_AbortsAndPropagates()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.TransactionAsync(async (tx, ct) =>
        {
            await tx.WriteAsync("/fail/x", "1", ct);
            throw new InvalidOperationException("body failed");
        }));
        Assert.False(await _client.ExistsAsync("/fail"));
    }

    [Fact]
    public async Task UnknownTransactionId_IsEnoent()
    {
        var tx = await _client.BeginTransactionAsync();
        await tx.AbortAsync();
        var stale = await _client.BeginTransactionAsync();
        await stale.CommitAsync();
        Assert.Equal(XenStoreErrno.ENOENT, await ErrorOf(() => tx.ReadAsync("/tool")));
    }

    [Fact]
    public async Task UnprivilegedDomain_RelativePaths_Ownership_AndPermissions()
    {
        await _client.MkdirAsync("/local/domain/5");
        await _client.SetPermissionsAsync("/local/domain/5", XenStorePermissions.Parse("n5"));
        await using var dom5 = await _server.ConnectAsDomainAsync(5);
        await dom5.WriteAsync("data/x", "hello");
        Assert.Equal("hello", await _client.ReadStringAsync("/local/domain/5/data/x"));
        Assert.Equal("n5", (await _client.GetPermissionsAsync("/local/domain/5/data/x")).ToString());

        // A relative watch reports relative paths.
        await using var watch = await dom5.WatchAsync("data");
        Assert.Equal("data", (await Next(watch)).Path);
        await _client.WriteAsync("/local/domain/5/data/y", "1");
        Assert.Equal("data/y", (await Next(watch)).Path);

        // Outside its home, with the root's n0: no access, and existence does not leak.
        Assert.Equal(XenStoreErrno.EACCES, await ErrorOf(() => dom5.ReadAsync("/tool")));
        Assert.Equal(XenStoreErrno.EACCES, await ErrorOf(() => dom5.ReadAsync("/does/not/exist")));
        Assert.Equal(XenStoreErrno.EACCES, await ErrorOf(() => dom5.WriteAsync("/evil", "x")));
        // It may share its node, but not give it away.
        await dom5.SetPermissionsAsync("data/x", XenStorePermissions.Parse("n5 r6"));
        Assert.Equal(XenStoreErrno.EPERM, await ErrorOf(() => dom5.SetPermissionsAsync("data/x", XenStorePermissions.Parse("n6"))));
        Assert.Equal("data/x", (await Next(watch)).Path); // the permission change it may see
        // And it gets no dom0 control.
        Assert.Equal(XenStoreErrno.EACCES, await ErrorOf(() => dom5.ControlAsync("release", ["5"])));
        // Watches on nodes it cannot read stay silent.
        await using var hidden = await dom5.WatchAsync("/tool");
        await Next(hidden); // registration fires regardless
        await _client.WriteAsync("/tool/xenstored/secret", "s");
        await _client.WriteAsync("/local/domain/5/data/z", "1");
        Assert.Equal("data/z", (await Next(watch)).Path);
        Assert.False(hidden.Events.TryRead(out var leak), $"leaked {leak}");
    }

    [Fact]
    public async Task Quotas_NodeSize_Watches_Transactions_ForUnprivilegedOnly()
    {
        await _client.MkdirAsync("/local/domain/8");
        await _client.SetPermissionsAsync("/local/domain/8", XenStorePermissions.Parse("n8"));
        await using var dom8 = await _server.ConnectAsDomainAsync(8);
        await dom8.WriteAsync("small", new byte[32]);
        Assert.Equal(XenStoreErrno.ENOSPC, await ErrorOf(() => dom8.WriteAsync("large", new byte[100])));
        await _client.WriteAsync("/local/domain/8/large", new byte[100]); // dom0 is not bound

        var watches = new List<XenStoreWatch>();
        for (int i = 0; i < 3; i++)
            watches.Add(await dom8.WatchAsync($"w{i}"));
        Assert.Equal(XenStoreErrno.E2BIG, await ErrorOf(() => dom8.WatchAsync("w3")));
        await watches[0].DisposeAsync();
        watches.Add(await dom8.WatchAsync("w3")); // room again

        var t1 = await dom8.BeginTransactionAsync();
        var t2 = await dom8.BeginTransactionAsync();
        Assert.Equal(XenStoreErrno.ENOSPC, await ErrorOf(() => dom8.BeginTransactionAsync()));
        await t1.AbortAsync();
        await (await dom8.BeginTransactionAsync()).AbortAsync();
        await t2.AbortAsync();
        foreach (var w in watches)
            await w.DisposeAsync();
    }

    [Fact]
    public async Task PipelinedRequests_AreMatchedToTheirReplies()
    {
        var writes = Enumerable.Range(0, 200).Select(i => _client.WriteAsync($"/pipe/n{i}", $"v{i}"));
        await Task.WhenAll(writes);
        var reads = Enumerable.Range(0, 200).Select(i => _client.ReadStringAsync($"/pipe/n{i}")).ToArray();
        var values = await Task.WhenAll(reads);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"v{i}"), values);
    }

    [Fact]
    public async Task ManyClients_Concurrently()
    {
        var options = new XenStoreClientOptions { MaxTransactionAttempts = 1000 };
        var clients = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => _server.ConnectAsync(options)));
        await Task.WhenAll(clients.Select((c, i) => Task.Run(async () =>
        {
            for (int k = 0; k < 50; k++)
                await c.TransactionAsync(async (tx, ct) =>
                {
                    string? v = await tx.TryReadStringAsync("/shared/counter", ct);
                    await tx.WriteAsync("/shared/counter", ((v is null ? 0 : int.Parse(v)) + 1).ToString(), ct);
                });
        })));
        // Every increment survived: conflicts were detected and retried, none lost.
        Assert.Equal("800", await _client.ReadStringAsync("/shared/counter"));
        foreach (var c in clients)
            await c.DisposeAsync();
    }

    [Fact]
    public async Task Endpoint_FollowsXenstoredPathThenDefaults()
    {
        Assert.Equal(["/custom"], XenStoreEndpoint.Candidates("/custom"));
        Assert.Equal(["/run/xenstored/socket", "/var/run/xenstored/socket", "/dev/xen/xenbus"], XenStoreEndpoint.Candidates(null));
        Assert.Equal("/var/run/xenstored/socket", XenStoreEndpoint.Resolve(null, p => p.StartsWith("/var/")));
        Assert.Null(XenStoreEndpoint.Resolve("/custom", p => p != "/custom"));
        await Assert.ThrowsAsync<XenStoreConnectionException>(() => XenStoreClient.ConnectAsync(Path.Combine(_server.Directory, "absent")));
    }

    private static async Task<XenStoreWatchEvent> Next(XenStoreWatch watch)
    {
        using var timeout = new CancellationTokenSource(s_wait);
        return await watch.Events.ReadAsync(timeout.Token);
    }
}
