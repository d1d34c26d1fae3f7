using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace XenVnvdimm.DeviceModel.Platforms.Xen.Qmp;

/// <summary>
/// Stands between libxl and the guest's QEMU on libxl's QMP socket, so that <c>xl migrate</c> is
/// refused before the guest is suspended (see <see cref="MigrationRefusal"/>) while every other
/// command — <c>xl save</c>'s included — passes through unchanged.
/// <para>
/// QEMU's arguments stay untouched: QEMU's listening socket is hard-linked to
/// <see cref="QemuLink"/>, and the guard's own listener is renamed over libxl's path, atomically,
/// so a toolstack connecting meanwhile reaches one or the other, never nothing. On stop, while the
/// domain lives (the companion restarting, an upgrade), QEMU's socket is renamed back; once the
/// domain is gone both names are removed. A guard left behind by a killed companion is found by
/// the next one (<see cref="QemuLink"/> exists, libxl's path refuses connections) and replaced.
/// </para>
/// </summary>
internal sealed partial class QmpGuard : IDisposable
{
    private const uint S_IFMT = 0xF000;
    private const uint S_IFSOCK = 0xC000;

    private readonly string _path;
    private readonly Func<int, string?> _refusalForPeer;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private bool _stopped;
    private Socket? _listener;
    private ulong _listenerInode;
    private int _refused;

    /// <param name="libxlPath">libxl's QMP socket of the domain (<c>/var/run/xen/qmp-libxl-N</c>).</param>
    /// <param name="qemuLink">Where QEMU's socket is kept meanwhile: on the same filesystem, in a directory only root writes.</param>
    /// <param name="refusalForPeer">For the pid at the other end of a new connection: the error to answer its dirty-log request with, or null to pass it.</param>
    /// <param name="logger">Where the swap and each refusal are told.</param>
    public QmpGuard(string libxlPath, string qemuLink, Func<int, string?> refusalForPeer, ILogger logger)
    {
        _path = libxlPath;
        QemuLink = qemuLink;
        _refusalForPeer = refusalForPeer;
        _logger = logger;
    }

    /// <summary>QEMU's socket while the guard stands in its place.</summary>
    public string QemuLink { get; }

    /// <summary>How many dirty-log requests were refused.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>True once the guard's listener is at libxl's path.</summary>
    public bool Installed => _listener is not null;

    /// <summary>
    /// Waits (up to <paramref name="wait"/>) for libxl's socket, then stands in its place. Returns
    /// false, having logged why, when it cannot (the guest then runs unguarded: a migration is still
    /// refused by the receiving host's wrapper, after the guest was suspended).
    /// </summary>
    public async Task<bool> InstallAsync(TimeSpan wait, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + wait;
        while (!IsSocket(_path, out _))
        {
            if (DateTime.UtcNow > deadline)
            {
                _logger.LogWarning("qmp guard: no QMP socket at {Path} after {Seconds} s: xl migrate will be refused only by the receiving host", _path, (int)wait.TotalSeconds);
                return false;
            }
            await Task.Delay(100, cancel).ConfigureAwait(false);
        }
        try
        {
            Files.SafeFile.EnsureSafeDirectory(Path.GetDirectoryName(Path.GetFullPath(QemuLink))!, create: true);
            lock (_gate)
            {
                if (_stopped)
                    return false;
                Install();
            }
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            _logger.LogWarning("qmp guard: cannot stand in for {Path}: {Message}: xl migrate will be refused only by the receiving host", _path, e.Message);
            return false;
        }
    }

    private void Install()
    {
        if (IsSocket(QemuLink, out _))
        {
            // A guard before us was killed: its dead listener is at _path, QEMU's socket at QemuLink.
            if (Accepts(_path))
                Unlink(QemuLink);
            else
                _logger.LogInformation("qmp guard: taking over from a guard that is gone ({Link})", QemuLink);
        }
        if (!IsSocket(QemuLink, out _))
            Check(link(_path, QemuLink), $"link {_path} to {QemuLink}");

        string temporary = _path + ".xen-vnvdimm";
        Unlink(temporary);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(temporary));
            listener.Listen(16);
            Check(rename(temporary, _path), $"rename {temporary} to {_path}");
        }
        catch
        {
            listener.Dispose();
            Unlink(temporary);
            Unlink(QemuLink);
            throw;
        }
        IsSocket(_path, out _listenerInode);
        _listener = listener;
        new Thread(AcceptLoop) { IsBackground = true, Name = "qmp-guard accept" }.Start();
        _logger.LogInformation("qmp guard: on {Path} (QEMU's socket kept at {Link}): xl migrate is refused before the guest is suspended", _path, QemuLink);
    }

    private void AcceptLoop()
    {
        var listener = _listener!;
        while (true)
        {
            Socket client;
            try
            {
                client = listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return; // stopped
            }
            var qemu = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                qemu.Connect(new UnixDomainSocketEndPoint(QemuLink));
            }
            catch (SocketException e)
            {
                _logger.LogWarning("qmp guard: QEMU's socket {Link} refused a connection: {Message}", QemuLink, e.Message);
                qemu.Dispose();
                client.Dispose();
                continue;
            }
            int pid = UnixSocketInterop.PeerPid((int)client.SafeHandle.DangerousGetHandle());
            var relay = new QmpRelay(client, qemu, pid > 0 ? _refusalForPeer(pid) : null, _logger);
            relay.Refused += () => Interlocked.Increment(ref _refused);
            relay.Start();
        }
    }

    /// <summary>
    /// Steps aside: QEMU's socket goes back to libxl's path while <paramref name="domainAlive"/>,
    /// otherwise both names go. Connections already open finish on their own.
    /// </summary>
    public void Stop(bool domainAlive)
    {
        Socket? listener;
        lock (_gate)
        {
            _stopped = true;
            listener = Interlocked.Exchange(ref _listener, null);
        }
        if (listener is null)
            return;
        bool ours = IsSocket(_path, out ulong inode) && inode == _listenerInode;
        if (ours && domainAlive && rename(QemuLink, _path) == 0)
            _logger.LogInformation("qmp guard: QEMU's socket is back at {Path}", _path);
        else
        {
            if (ours)
                Unlink(_path);
            Unlink(QemuLink);
        }
        listener.Dispose();
    }

    /// <inheritdoc/>
    public void Dispose() => Stop(domainAlive: true);

    private static bool Accepts(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static unsafe bool IsSocket(string path, out ulong inode)
    {
        statx st;
        inode = 0;
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pp = p)
        {
            if (statx(AT_FDCWD, pp, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &st) != 0 || (st.stx_mode & S_IFMT) != S_IFSOCK)
                return false;
        }
        inode = st.stx_ino;
        return true;
    }

    private static int link(string from, string to) => LinkFile(from, to);

    private static int rename(string from, string to) => RenameFile(from, to);

    private static unsafe void Unlink(string path)
    {
        byte[] p = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pp = p)
            unlink(pp);
    }

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LinkFile(string from, string to);

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameFile(string from, string to);

    private static void Check(int rc, string what)
    {
        if (rc != 0)
            throw new IOException($"{what}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }
}
