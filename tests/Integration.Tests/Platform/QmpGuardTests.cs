using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.DeviceModel.Platforms.Xen.Qmp;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// The QMP guard between a toolstack and a real QEMU (Debian's qemu-system-x86_64, QMP on a Unix
/// socket as libxl configures it: <c>-chardev socket,id=libxl-cmd,...,server=on,wait=off -mon
/// chardev=libxl-cmd,mode=control</c>). QEMU's answers, and its refusal of an <c>add-fd</c> that
/// arrives without a descriptor, judge whether the guard passes bytes and descriptors through.
/// </summary>
public sealed class QmpGuardTests : IDisposable
{
    private const string Refusal = "refused by the test's migration policy";
    private readonly TempDir _dir = new("xvnd-qmp-");
    private readonly Process _qemu;
    private readonly string _socket;
    private readonly string _link;

    public QmpGuardTests()
    {
        _socket = _dir.File("qmp-libxl-5");
        _link = Path.Combine(_dir.File("state"), "qmp-libxl-5.qemu");
        string qemu = new[] { "/usr/bin/qemu-system-x86_64", "/usr/local/bin/qemu-system-x86_64" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("qemu-system-x86_64 is missing (run scripts/setup)");
        var psi = new ProcessStartInfo(qemu) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { "-machine", "none", "-nodefaults", "-nographic", "-S",
                     "-chardev", $"socket,id=libxl-cmd,path={_socket},server=on,wait=off", "-mon", "chardev=libxl-cmd,mode=control" })
            psi.ArgumentList.Add(a);
        _qemu = Process.Start(psi)!;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(_socket))
        {
            if (_qemu.HasExited)
                Assert.Fail($"QEMU exited: {_qemu.StandardError.ReadToEnd()}");
            Assert.True(DateTime.UtcNow < deadline, "QEMU's QMP socket did not appear in 30 s");
            Thread.Sleep(50);
        }
    }

    public void Dispose()
    {
        if (!_qemu.HasExited)
            _qemu.Kill();
        _qemu.WaitForExit();
        _qemu.Dispose();
        _dir.Dispose();
    }

    private QmpGuard Guard(bool refuseUs) =>
        new(_socket, _link, pid => refuseUs && pid == Environment.ProcessId ? Refusal : null, NullLogger.Instance);

    [Fact]
    public async Task AMigrationsDirtyLogRequestIsAnsweredByTheGuardAndEverythingElseReachesQemu()
    {
        ulong qemuInode = Inode(_socket);
        using var guard = Guard(refuseUs: true);
        Assert.True(await guard.InstallAsync(TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.NotEqual(qemuInode, Inode(_socket));
        Assert.Equal(qemuInode, Inode(_link));

        using (var qmp = Qmp.Connect(_socket))
        {
            Assert.Contains("\"QMP\"", qmp.Greeting);
            Assert.True(qmp.Call("{\"execute\":\"qmp_capabilities\",\"id\":1}").TryGetProperty("return", out _));
            Assert.Equal("prelaunch", qmp.Call("{\"execute\":\"query-status\",\"id\":2}").GetProperty("return").GetProperty("status").GetString());

            var refused = qmp.Call("{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":{\"enable\":true},\"id\":3}");
            Assert.Equal(Refusal, refused.GetProperty("error").GetProperty("desc").GetString());
            Assert.Equal(3, refused.GetProperty("id").GetInt32());
            Assert.Equal(1, guard.Refused);
            Assert.Equal(4, qmp.Call("{\"execute\":\"query-status\",\"id\":4}").GetProperty("id").GetInt32());

            // libxl hands QEMU a descriptor with add-fd (xl save's device-state file): it must arrive
            using var file = File.Open(_dir.File("device-state"), FileMode.Create);
            var added = qmp.Call("{\"execute\":\"add-fd\",\"arguments\":{\"fdset-id\":1},\"id\":5}", (int)file.SafeFileHandle.DangerousGetHandle());
            Assert.True(added.TryGetProperty("return", out var ret), added.ToString());
            Assert.Equal(1, ret.GetProperty("fdset-id").GetInt32());
            var withoutFd = qmp.Call("{\"execute\":\"add-fd\",\"arguments\":{\"fdset-id\":2},\"id\":6}");
            Assert.True(withoutFd.TryGetProperty("error", out _), "QEMU accepted an add-fd without a descriptor: the test cannot tell");
        }

        guard.Stop(domainAlive: true);
        Assert.Equal(qemuInode, Inode(_socket));
        Assert.False(File.Exists(_link));
        using var direct = Qmp.Connect(_socket);
        Assert.Contains("\"QMP\"", direct.Greeting);
    }

    [Fact]
    public async Task ASaveOrAnyOtherPeerHasItsDirtyLogRequestPassedToQemu()
    {
        using var guard = Guard(refuseUs: false);
        Assert.True(await guard.InstallAsync(TimeSpan.FromSeconds(10), CancellationToken.None));
        using var qmp = Qmp.Connect(_socket);
        qmp.Call("{\"execute\":\"qmp_capabilities\",\"id\":1}");
        var reply = qmp.Call("{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":{\"enable\":true},\"id\":2}");
        Assert.DoesNotContain(Refusal, reply.ToString());
        Assert.Equal(0, guard.Refused);
    }

    [Fact]
    public async Task AGuardLeftByAKilledCompanionIsTakenOverAndAGoneDomainLeavesNeitherSocket()
    {
        // what a kill -9 leaves: QEMU's socket at the link, a dead listener at libxl's path
        Directory.CreateDirectory(Path.GetDirectoryName(_link)!);
        Assert.Equal(0, Run("ln", _socket, _link));
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            dead.Bind(new UnixDomainSocketEndPoint(_socket + ".dead"));
            Assert.Equal(0, Run("ln", _socket + ".dead", _socket + ".kept")); // .NET unlinks the name it bound
        }
        File.Move(_socket + ".kept", _socket, overwrite: true);
        Assert.Throws<SocketException>(() => Qmp.Connect(_socket).Dispose());

        using var guard = Guard(refuseUs: true);
        Assert.True(await guard.InstallAsync(TimeSpan.FromSeconds(10), CancellationToken.None));
        using (var qmp = Qmp.Connect(_socket))
        {
            qmp.Call("{\"execute\":\"qmp_capabilities\",\"id\":1}");
            Assert.Equal(Refusal, qmp.Call("{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":{\"enable\":true},\"id\":2}")
                .GetProperty("error").GetProperty("desc").GetString());
        }
        guard.Stop(domainAlive: false);
        Assert.False(File.Exists(_socket));
        Assert.False(File.Exists(_link));
    }

    private static ulong Inode(string path)
    {
        var psi = new ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        string s = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return ulong.Parse(s);
    }

    private static int Run(string tool, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(tool, args))!;
        p.WaitForExit();
        return p.ExitCode;
    }

    /// <summary>A line-at-a-time QMP client, as libxl talks: one command, then its reply.</summary>
    private sealed class Qmp : IDisposable
    {
        private readonly Socket _socket;
        private readonly List<byte> _buffer = new();

        private Qmp(Socket socket)
        {
            _socket = socket;
            _socket.ReceiveTimeout = 10_000;
            Greeting = ReadLine();
        }

        public string Greeting { get; }

        public static Qmp Connect(string path)
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                s.Connect(new UnixDomainSocketEndPoint(path));
                return new Qmp(s);
            }
            catch
            {
                s.Dispose();
                throw;
            }
        }

        public JsonElement Call(string command, int fd = -1)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(command + "\r\n");
            UnixSocketInterop.Send((int)_socket.SafeHandle.DangerousGetHandle(), bytes, fd >= 0 ? [fd] : []);
            while (true)
            {
                var reply = JsonDocument.Parse(ReadLine()).RootElement;
                if (!reply.TryGetProperty("event", out _))
                    return reply.Clone();
            }
        }

        private string ReadLine()
        {
            var chunk = new byte[4096];
            while (true)
            {
                int nl = _buffer.IndexOf((byte)'\n');
                if (nl >= 0)
                {
                    string line = Encoding.UTF8.GetString(_buffer.GetRange(0, nl).ToArray()).TrimEnd('\r');
                    _buffer.RemoveRange(0, nl + 1);
                    return line;
                }
                int n = _socket.Receive(chunk);
                if (n == 0)
                    throw new SocketException((int)SocketError.ConnectionReset);
                _buffer.AddRange(chunk.AsSpan(0, n));
            }
        }

        public void Dispose() => _socket.Dispose();
    }
}
