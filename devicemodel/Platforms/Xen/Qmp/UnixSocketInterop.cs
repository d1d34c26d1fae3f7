using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace XenVnvdimm.DeviceModel.Platforms.Xen.Qmp;

/// <summary>
/// The Unix-socket calls .NET's Socket does not offer: the peer's pid (SO_PEERCRED) and reading or
/// writing bytes together with descriptors (SCM_RIGHTS), which libxl passes to QEMU over QMP
/// (<c>add-fd</c> before <c>xen-save-devices-state</c>).
/// </summary>
internal static unsafe class UnixSocketInterop
{
    /// <summary>The most descriptors taken from one message (QMP passes one at a time).</summary>
    public const int MaxFds = 16;

    /// <summary>The pid of the process at the other end of connected socket <paramref name="fd"/>, or -1.</summary>
    public static int PeerPid(int fd)
    {
        ucred cred;
        socklen_t len = (socklen_t)sizeof(ucred);
        return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.pid : -1;
    }

    /// <summary>
    /// Reads into <paramref name="buffer"/> (blocking), appending any descriptors that came with the
    /// bytes to <paramref name="fds"/> (close-on-exec; the caller owns them). Returns the byte count,
    /// 0 at the end of the stream.
    /// </summary>
    /// <exception cref="IOException">The read failed.</exception>
    public static int Receive(int fd, Span<byte> buffer, List<int> fds)
    {
        int space = (int)CMSG_SPACE(MaxFds * sizeof(int));
        byte* control = stackalloc byte[space];
        fixed (byte* data = buffer)
        {
            while (true)
            {
                var iov = new iovec { iov_base = data, iov_len = (size_t)buffer.Length };
                var msg = new msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = (socklen_t)space };
                ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
                if (n < 0)
                {
                    if (errno == EINTR)
                        continue;
                    throw new IOException($"recvmsg: {Marshal.GetPInvokeErrorMessage(errno)}");
                }
                for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != null; c = CMSG_NXTHDR(&msg, c))
                {
                    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                    int count = (int)(((int)c->cmsg_len - (int)CMSG_LEN(0)) / sizeof(int));
                    int* passed = (int*)CMSG_DATA(c);
                    for (int i = 0; i < count; i++)
                        fds.Add(passed[i]);
                }
                return (int)n;
            }
        }
    }

    /// <summary>
    /// Writes all of <paramref name="bytes"/> (blocking), the descriptors <paramref name="fds"/> with
    /// the first byte, as their sender did.
    /// </summary>
    /// <exception cref="IOException">The write failed (the peer went away).</exception>
    public static void Send(int fd, ReadOnlySpan<byte> bytes, IReadOnlyList<int> fds)
    {
        if (fds.Count > MaxFds)
            throw new IOException($"{fds.Count} descriptors in one message (at most {MaxFds})");
        int space = fds.Count == 0 ? 0 : (int)CMSG_SPACE(fds.Count * sizeof(int));
        byte* control = stackalloc byte[Math.Max(space, 1)];
        new Span<byte>(control, Math.Max(space, 1)).Clear();
        bool withFds = fds.Count > 0;
        fixed (byte* data = bytes)
        {
            int done = 0;
            while (done < bytes.Length || withFds)
            {
                var iov = new iovec { iov_base = data + done, iov_len = (size_t)(bytes.Length - done) };
                var msg = new msghdr { msg_iov = &iov, msg_iovlen = 1 };
                if (withFds)
                {
                    msg.msg_control = control;
                    msg.msg_controllen = (socklen_t)space;
                    cmsghdr* c = CMSG_FIRSTHDR(&msg);
                    c->cmsg_level = SOL_SOCKET;
                    c->cmsg_type = SCM_RIGHTS;
                    c->cmsg_len = (socklen_t)(int)CMSG_LEN(fds.Count * sizeof(int));
                    int* slots = (int*)CMSG_DATA(c);
                    for (int i = 0; i < fds.Count; i++)
                        slots[i] = fds[i];
                }
                ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
                if (n < 0)
                {
                    if (errno == EINTR)
                        continue;
                    throw new IOException($"sendmsg: {Marshal.GetPInvokeErrorMessage(errno)}");
                }
                withFds = false;
                done += (int)n;
            }
        }
    }
}
