using System.Diagnostics;
using XenVnvdimm.Tests.Support;
using XenVnvdimm.XenStore.Client;

namespace XenVnvdimm.Tests;

/// <summary>
/// python3-pyxs, a second independent implementation of the protocol, against the embedded server
/// (it finds the socket through XENSTORED_PATH). Runs under Debian's /usr/bin/python3.
/// </summary>
public sealed class PyxsTests : IAsyncLifetime
{
    private EmbeddedServer _server = null!;
    private XenStoreClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = new EmbeddedServer();
        _client = await _server.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    private Task<ToolResult> Py(string script) => Tool.PythonAsync(_server.SocketPath, script);

    [Fact]
    public async Task ReadsWritesListsAndPermissions()
    {
        await _client.WriteAsync("/py/from-us", "ours");
        var result = (await Py("""
            from pyxs import Client
            with Client() as c:
                print(c.read(b"/py/from-us").decode())
                c.write(b"/py/from-py", b"theirs")
                c.mkdir(b"/py/dir")
                print(",".join(sorted(x.decode() for x in c.list(b"/py"))))
                c.set_perms(b"/py/from-py", [b"n0", b"r3"])
                print(",".join(p.decode() for p in c.get_perms(b"/py/from-py")))
                print(c.exists(b"/py/nope"), c.exists(b"/py/dir"))
                print(c.get_domain_path(4).decode(), c.is_domain_introduced(0))
                c.delete(b"/py/dir")
            """)).AssertSuccess();
        Assert.Equal("ours\ndir,from-py,from-us\nn0,r3\nFalse True\n/local/domain/4 True\n", result.Stdout);
        Assert.Equal("theirs", await _client.ReadStringAsync("/py/from-py"));
        Assert.Equal("n0 r3", (await _client.GetPermissionsAsync("/py/from-py")).ToString());
        Assert.False(await _client.ExistsAsync("/py/dir"));
    }

    [Fact]
    public async Task ErrorsReachPyxsAsErrno()
    {
        var result = (await Py("""
            import errno
            from pyxs import Client, PyXSError
            with Client() as c:
                try:
                    c.read(b"/definitely/missing")
                except PyXSError as e:
                    print(errno.errorcode[e.args[0]])
                try:
                    c.delete(b"/")
                except PyXSError as e:
                    print(errno.errorcode[e.args[0]])
            """)).AssertSuccess();
        Assert.Equal("ENOENT\nEINVAL\n", result.Stdout);
    }

    [Fact]
    public async Task PyxsWatch_FiresOnRegistrationAndOnOurWrite()
    {
        await _client.MkdirAsync("/pw");
        var psi = Tool.StartInfo(Tool.Python, _server.SocketPath, ["-c", """
            from pyxs import Client
            with Client() as c:
                m = c.monitor()
                m.watch(b"/pw", b"tok")
                events = m.wait()
                e = next(events)
                print("registered", e.path.decode(), e.token.decode(), flush=True)
                e = next(events)
                print("event", e.path.decode(), e.token.decode(), flush=True)
            """]);
        using var py = Process.Start(psi)!;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            Assert.Equal("registered /pw tok", await py.StandardOutput.ReadLineAsync(timeout.Token));
            await _client.WriteAsync("/pw/x", "1");
            Assert.Equal("event /pw/x tok", await py.StandardOutput.ReadLineAsync(timeout.Token));
            await py.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, py.ExitCode);
        }
        finally
        {
            if (!py.HasExited)
                py.Kill();
        }
    }

    [Fact]
    public async Task OurWatch_FiresOnAPyxsWrite()
    {
        await using var watch = await _client.WatchAsync("/ow");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Assert.Equal("/ow", (await watch.Events.ReadAsync(timeout.Token)).Path);
        (await Py("""
            from pyxs import Client
            with Client() as c:
                c.write(b"/ow/from-py", b"v")
            """)).AssertSuccess();
        Assert.Equal("/ow/from-py", (await watch.Events.ReadAsync(timeout.Token)).Path);
    }

    [Fact]
    public async Task Transactions_CommitRollbackAndConflictEndingInEagain()
    {
        var result = (await Py("""
            import errno
            from pyxs import Client
            with Client() as a, Client() as b:
                a.transaction()
                a.write(b"/ptx/one", b"1")
                a.write(b"/ptx/two", b"2")
                print("hidden", b.exists(b"/ptx/one"))
                print("commit", a.commit())
                print("visible", b.read(b"/ptx/two").decode())

                a.transaction()
                a.write(b"/ptx/gone", b"x")
                a.rollback()
                print("rolled back", b.exists(b"/ptx/gone"))

                a.write(b"/ptx/x", b"0")
                a.transaction()
                v = a.read(b"/ptx/x")
                a.write(b"/ptx/y", v + b"+1")
                b.write(b"/ptx/x", b"changed")
                print("conflict commit", a.commit())
                print("y exists", b.exists(b"/ptx/y"))

                # The same conflict at the protocol level: the END reply is the error EAGAIN.
                from pyxs import PyXSError
                from pyxs._internal import Op
                a.transaction()
                a.read(b"/ptx/x")
                a.write(b"/ptx/y", b"again")
                b.write(b"/ptx/x", b"changed again")
                try:
                    a.ack(Op.TRANSACTION_END, b"T\x00")
                    print("end OK")
                except PyXSError as e:
                    print("end", errno.errorcode[e.args[0]])
                a.tx_id = 0
            """)).AssertSuccess();
        Assert.Equal("hidden False\ncommit True\nvisible 2\nrolled back False\nconflict commit False\ny exists False\nend EAGAIN\n", result.Stdout);
        Assert.Equal("changed again", await _client.ReadStringAsync("/ptx/x"));
        Assert.False(await _client.ExistsAsync("/ptx/y"));
    }

    [Fact]
    public async Task PyxsTransaction_ConflictsWithAWriteByOurClient()
    {
        await _client.WriteAsync("/mix/x", "0");
        var psi = Tool.StartInfo(Tool.Python, _server.SocketPath, ["-c", """
            import sys
            from pyxs import Client
            with Client() as c:
                c.transaction()
                c.write(b"/mix/y", c.read(b"/mix/x") + b"+py")
                print("ready", flush=True)
                sys.stdin.readline()
                print("commit", c.commit(), flush=True)
            """]);
        using var py = Process.Start(psi)!;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            Assert.Equal("ready", await py.StandardOutput.ReadLineAsync(timeout.Token));
            await _client.WriteAsync("/mix/x", "ours");
            await py.StandardInput.WriteLineAsync();
            await py.StandardInput.FlushAsync();
            Assert.Equal("commit False", await py.StandardOutput.ReadLineAsync(timeout.Token));
            await py.WaitForExitAsync(timeout.Token);
            Assert.False(await _client.ExistsAsync("/mix/y"));
        }
        finally
        {
            if (!py.HasExited)
                py.Kill();
        }
    }

    [Fact]
    public async Task ClientKilledMidTransaction_LeavesNoPartialWrites()
    {
        var psi = Tool.StartInfo(Tool.Python, _server.SocketPath, ["-c", """
            import time
            from pyxs import Client
            c = Client()
            c.connect()
            c.transaction()
            for i in range(50):
                c.write(b"/killed/n%d" % i, b"partial")
            print("ready", flush=True)
            time.sleep(60)
            """]);
        using var py = Process.Start(psi)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Assert.Equal("ready", await py.StandardOutput.ReadLineAsync(timeout.Token));
        int before = _server.Server.ConnectionCount;
        py.Kill(); // SIGKILL: no chance to roll back
        await py.WaitForExitAsync(timeout.Token);
        while (_server.Server.ConnectionCount >= before)
            await Task.Delay(10, timeout.Token);

        Assert.False(await _client.ExistsAsync("/killed"));
        Assert.DoesNotContain("/killed", _server.DumpText());
        // The paths are free for others, and the server carries on.
        await _client.TransactionAsync(async (tx, ct) => await tx.WriteAsync("/killed/n0", "whole", ct));
        Assert.Equal(["n0"], await _client.ListAsync("/killed"));
    }
}
