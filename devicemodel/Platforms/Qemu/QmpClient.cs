using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace XenVnvdimm.DeviceModel.Platforms.Qemu;

/// <summary>A minimal QMP client: greeting, capabilities negotiation, one command at a time.</summary>
internal sealed class QmpClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly StreamReader _reader;
    private readonly NetworkStream _stream;

    private QmpClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new StreamReader(_stream, Encoding.UTF8);
    }

    /// <summary>Connects to QEMU's QMP socket, retrying until QEMU has created it.</summary>
    public static async Task<QmpClient> ConnectAsync(string path, TimeSpan timeout, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await s.ConnectAsync(new UnixDomainSocketEndPoint(path), cancel);
                var c = new QmpClient(s);
                await c.ReadReplyAsync(cancel); // greeting
                await c.ExecuteAsync("qmp_capabilities", cancel);
                return c;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                s.Dispose();
                await Task.Delay(100, cancel);
            }
        }
    }

    /// <summary>Runs a command and returns its "return" value; a QMP error is an exception.</summary>
    public async Task<JsonElement> ExecuteAsync(string command, CancellationToken cancel, string? argumentsJson = null)
    {
        string line = argumentsJson is null
            ? $"{{\"execute\":\"{command}\"}}\n"
            : $"{{\"execute\":\"{command}\",\"arguments\":{argumentsJson}}}\n";
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(line), cancel);
        while (true)
        {
            var reply = await ReadReplyAsync(cancel);
            if (reply.TryGetProperty("return", out var ret))
                return ret.Clone();
            if (reply.TryGetProperty("error", out var err))
                throw new InvalidOperationException($"QMP {command}: {err}");
            // Asynchronous events ({"event": ...}) are skipped.
        }
    }

    private async Task<JsonElement> ReadReplyAsync(CancellationToken cancel)
    {
        string? line = await _reader.ReadLineAsync(cancel) ?? throw new IOException("QMP connection closed");
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _stream.Dispose();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
