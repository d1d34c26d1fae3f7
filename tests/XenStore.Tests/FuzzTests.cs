using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;
using XenVnvdimm.Tests.Support;
using XenVnvdimm.XenStore;

namespace XenVnvdimm.Tests;

/// <summary>
/// 10,000 random and mutated messages from fuzzing clients (some acting as dom0, some as domain 7),
/// while a witness client keeps working: the server must answer or drop only the offending
/// connection, and still serve everyone afterwards with an intact tree.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const int Workers = 4;
    private const int MessagesPerWorker = 2500;

    private static readonly string[] s_paths =
    [
        "/fuzz", "/fuzz/a", "/fuzz/a/b", "/fuzz/a/b/c", "/fuzz/x-y_z", "data", "data/q", "/local/domain/7/p",
        "@releaseDomain", "@introduceDomain", "/", "", "//", "/fuzz/", "/bad path", "/tool", "@bogus",
    ];

    private static readonly string[] s_controls = ["help", "check", "introduce", "release", "set-domid", "print", "dump", "nope"];

    private static readonly uint[] s_types = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22];

    private sealed class Stats
    {
        public int Sent;
        public int Connections;
        public int Broken;
        public int InSync;
        public int Replies;
        public long RepliesBytes;
    }

    [Fact]
    public async Task TenThousandHostileMessages_LeaveTheServerServing()
    {
        await using var server = new EmbeddedServer();
        await using var witness = await server.ConnectAsync();
        await witness.WriteAsync("/witness", "w");
        await using var watch = await witness.WatchAsync("/witness");

        var stats = new Stats();
        using var done = new CancellationTokenSource();
        var witnessLoop = Task.Run(async () =>
        {
            int rounds = 0;
            while (!done.IsCancellationRequested)
            {
                await witness.WriteAsync("/witness-live", rounds.ToString());
                Assert.Equal(rounds.ToString(), await witness.ReadStringAsync("/witness-live"));
                rounds++;
            }
            return rounds;
        });

        await Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(() => FuzzWorker(server.SocketPath, 20261125 + w, stats))));
        done.Cancel();
        int witnessRounds = await witnessLoop;

        Assert.Equal(Workers * MessagesPerWorker, stats.Sent);
        Assert.True(stats.Broken > 0, "the fuzz should break some streams");
        Assert.True(stats.InSync > Workers * MessagesPerWorker * 8 / 10, $"only {stats.InSync} messages were in step");
        Assert.True(witnessRounds > 0);
        output.WriteLine($"fuzz: {stats.Sent} messages over {stats.Connections} connections ({stats.Broken} streams deliberately broken); "
                         + $"{stats.InSync} in-step requests got {stats.Replies} replies ({stats.RepliesBytes} bytes); "
                         + $"witness did {witnessRounds} write+read rounds meanwhile");

        // Fuzzers gone: only the witness remains connected.
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
            while (server.Server.ConnectionCount > 1)
                await Task.Delay(10, wait.Token);

        // The witness still works, its watch was never disturbed, and its node is intact.
        Assert.Equal("w", await witness.ReadStringAsync("/witness"));
        Assert.Equal("/witness", (await watch.Events.ReadAsync()).Path);
        Assert.False(watch.Events.TryRead(out var stray), $"stray event {stray}");

        // A fresh peer of another implementation is served.
        (await Tool.RunAsync("xenstore-write", server.SocketPath, "/after-fuzz", "ok")).AssertSuccess();
        Assert.Equal("ok\n", (await Tool.RunAsync("xenstore-read", server.SocketPath, "/after-fuzz")).AssertSuccess().Stdout);

        // The tree is consistent: every listed child can be read, recursively.
        int nodes = await Walk(witness, "/");
        Assert.Equal(server.Server.NodeCount, nodes);
        output.WriteLine($"tree after fuzz: {nodes} nodes, all reachable and readable");
    }

    private static async Task<int> Walk(XenVnvdimm.XenStore.Client.XenStoreClient client, string path)
    {
        await client.ReadAsync(path);
        int count = 1;
        foreach (var child in await client.ListAsync(path))
            count += await Walk(client, path == "/" ? "/" + child : path + "/" + child);
        return count;
    }

    private static async Task FuzzWorker(string socketPath, int seed, Stats stats)
    {
        var random = new Random(seed);
        int sent = 0;
        while (sent < MessagesPerWorker)
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
            Interlocked.Increment(ref stats.Connections);
            var replyStream = new NetworkStream(socket, ownsSocket: false);
            var drain = Task.Run(() => CountReplies(replyStream));

            // Half the connections give up dom0 privilege first, so permission paths are exercised.
            int expected = 0;
            if (random.Next(2) == 0)
            {
                await socket.SendAsync(Frame(0, 1, 0, Z("set-domid", "7")));
                expected++;
            }

            bool broken = false;
            int afterBreak = 0;
            int budget = random.Next(50, 600);
            for (int i = 0; i < budget && sent < MessagesPerWorker && afterBreak < 3; i++)
            {
                var (message, breaks) = Generate(random);
                try
                {
                    await socket.SendAsync(message);
                }
                catch (SocketException)
                {
                    break; // dropped by the server: expected after a stream-breaking message
                }
                sent++;
                Interlocked.Increment(ref stats.Sent);
                broken |= breaks;
                if (broken)
                    afterBreak++;
                else
                    expected++;
            }
            // Half-close: the server answers what it has, then sees the end of the stream.
            try
            {
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
            }
            var (replies, bytes) = await drain;
            Interlocked.Add(ref stats.RepliesBytes, bytes);
            Interlocked.Add(ref stats.Replies, replies);
            Interlocked.Add(ref stats.InSync, expected);
            if (broken)
                Interlocked.Increment(ref stats.Broken);
            // Every request sent while the stream was in step got its reply.
            Assert.True(replies >= expected, $"connection got {replies} replies for {expected} in-step requests");
        }
    }

    // Parses the server's output into messages and counts the replies (not watch events).
    private static async Task<(int Replies, long Bytes)> CountReplies(NetworkStream stream)
    {
        var header = new byte[16];
        int replies = 0;
        long bytes = 0;
        try
        {
            while (await stream.ReadAtLeastAsync(header, 16, throwOnEndOfStream: false) == 16)
            {
                uint type = BinaryPrimitives.ReadUInt32LittleEndian(header);
                int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12));
                Assert.InRange(len, 0, 4096); // the server never breaks the limit itself
                await stream.ReadExactlyAsync(new byte[len]);
                bytes += 16 + len;
                if (type != 15)
                    replies++;
            }
        }
        catch (IOException)
        {
        }
        return (replies, bytes);
    }

    private static (byte[] Message, bool BreaksStream) Generate(Random random)
    {
        int roll = random.Next(100);
        if (roll < 60)
            return (Plausible(random), false);
        if (roll < 85)
            return (MutateInStep(random, Plausible(random)), false);
        if (roll < 95)
        {
            // Noise with a truthful length: random type, ids and payload.
            var payload = new byte[random.Next(0, 300)];
            random.NextBytes(payload);
            return (Frame((uint)random.Next(), (uint)random.Next(), (uint)random.Next(4), payload), false);
        }
        return (BreakStream(random, Plausible(random)), true);
    }

    private static byte[] Plausible(Random random)
    {
        uint type = s_types[random.Next(s_types.Length)];
        string Path() => s_paths[random.Next(s_paths.Length)];
        string Perm() => "nrwbx"[random.Next(5)] + random.Next(0, 10).ToString();
        byte[] payload = type switch
        {
            11 => [.. Z(Path()), .. RandomValue(random)],
            14 => Z([Path(), .. Enumerable.Range(0, random.Next(0, 4)).Select(_ => Perm())]),
            4 or 5 => Z(Path(), "tok" + random.Next(4)),
            7 => Z(random.Next(3) switch { 0 => "T", 1 => "F", _ => "?" }),
            22 => Z(Path(), random.Next(0, 50).ToString()),
            0 => Z(s_controls[random.Next(s_controls.Length)], random.Next(0, 12).ToString()),
            8 => Z(random.Next(0, 12).ToString(), "1234", "5"),
            9 or 10 or 17 or 18 => Z(random.Next(0, 12).ToString()),
            6 or 21 => Z(""),
            _ => Z(Path()),
        };
        uint tx = random.Next(4) == 0 ? (uint)random.Next(0, 40) : 0;
        return Frame(type, (uint)random.Next(), tx, payload);
    }

    private static byte[] RandomValue(Random random)
    {
        var value = new byte[random.Next(0, random.Next(4) == 0 ? 3000 : 40)];
        random.NextBytes(value);
        return value;
    }

    // Flips bits anywhere but in the length field: the stream stays in step.
    private static byte[] MutateInStep(Random random, byte[] frame)
    {
        for (int flips = random.Next(1, 5); flips > 0; flips--)
        {
            int at = random.Next(frame.Length);
            if (at is >= 12 and < 16)
                continue;
            frame[at] ^= (byte)(1 << random.Next(8));
        }
        return frame;
    }

    private static byte[] BreakStream(Random random, byte[] frame)
    {
        switch (random.Next(4))
        {
            case 0:
                // A length past the limit: the server must drop this connection.
                BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(12), (uint)random.Next(4097, int.MaxValue));
                return frame;
            case 1:
                // Truncated: later bytes become this payload, then headers come from the middle of messages.
                return frame[..random.Next(1, frame.Length)];
            case 2:
                frame[12 + random.Next(4)] ^= (byte)(1 << random.Next(8));
                return frame;
            default:
                var junk = new byte[random.Next(1, 24)];
                random.NextBytes(junk);
                return [.. frame, .. junk];
        }
    }

    private static byte[] Z(params string[] parts) => Encoding.ASCII.GetBytes(string.Concat(parts.Select(p => p + "\0")));

    private static byte[] Frame(uint type, uint reqId, uint txId, byte[] payload, uint? lengthOverride = null)
    {
        var f = new byte[16 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(f, type);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(4), reqId);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(8), txId);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(12), lengthOverride ?? (uint)payload.Length);
        payload.CopyTo(f, 16);
        return f;
    }
}
