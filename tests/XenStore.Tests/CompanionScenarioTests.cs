using XenVnvdimm.Tests.Support;
using XenVnvdimm.XenStore.Client;

namespace XenVnvdimm.Tests;

/// <summary>
/// The companion's life on xenstore, end to end against the embedded server: publish state beside
/// QEMU's, take a hot-add command through a watch, notice the domain's death via @releaseDomain.
/// The "toolstack" side is Debian's xenstore-write, as it would be on a Xen host.
/// </summary>
public sealed class CompanionScenarioTests
{
    [Fact]
    public async Task PublishState_TakeHotAddCommand_ExitOnRelease()
    {
        await using var server = new EmbeddedServer();
        await using var companion = await server.ConnectAsync();
        const string home = "/local/domain/0/device-model/5/vnvdimm";
        await companion.ControlAsync("introduce", ["5"]);

        // dom0's relative paths land under /local/domain/0.
        await companion.WriteAsync("device-model/5/vnvdimm/state", "running");
        Assert.Equal("running\n", (await Tool.RunAsync("xenstore-read", server.SocketPath, home + "/state")).AssertSuccess().Stdout);

        await using var commands = await companion.WatchAsync(home + "/command");
        await using var released = await companion.WatchAsync("@releaseDomain");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await commands.Events.ReadAsync(timeout.Token);
        await released.Events.ReadAsync(timeout.Token);

        (await Tool.RunAsync("xenstore-write", server.SocketPath, home + "/command/add", "slot=1,size=1G")).AssertSuccess();
        var e = await commands.Events.ReadAsync(timeout.Token);
        Assert.Equal(home + "/command/add", e.Path);
        Assert.Equal("slot=1,size=1G", await companion.ReadStringAsync(e.Path));
        await companion.TransactionAsync(async (tx, ct) =>
        {
            await tx.RemoveAsync(home + "/command/add", ct);
            await tx.WriteAsync(home + "/state", "hot-added 1", ct);
        });
        Assert.Equal(home + "/command/add", (await commands.Events.ReadAsync(timeout.Token)).Path); // our own removal

        await companion.ControlAsync("release", ["5"]);
        Assert.Equal("@releaseDomain", (await released.Events.ReadAsync(timeout.Token)).Path);
        Assert.False(await companion.IsDomainIntroducedAsync(5));
        Assert.Equal("hot-added 1\n", (await Tool.RunAsync("xenstore-read", server.SocketPath, home + "/state")).AssertSuccess().Stdout);
    }
}
