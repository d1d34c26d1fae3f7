using System.Text;
using System.Text.Json;
using XenVnvdimm.DeviceModel.Platforms.Xen.Qmp;
using Xunit;

namespace XenVnvdimm.Tests.Xen;

/// <summary>
/// The QMP guard's judgement: how it cuts a toolstack's stream into commands, which command it
/// answers itself and for which process. The stream's bytes are libxl's format (one object per
/// command, "\r\n" after each; libxl_qmp.c).
/// </summary>
public sealed class QmpFramingTests
{
    private const string Stream =
        "{\"execute\":\"qmp_capabilities\",\"id\":1}\r\n" +
        "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"info \\\"}{ \\\\\"},\"id\":2}\r\n" +
        "{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":{\"enable\":true},\"id\":3}\r\n";

    [Fact]
    public void EverySplitOfTheStreamGivesTheSameThreeCommandsAndLosesNoByte()
    {
        byte[] all = Encoding.UTF8.GetBytes(Stream);
        var random = new Random(5);
        for (int round = 0; round < 500; round++)
        {
            var splitter = new QmpObjectSplitter();
            var chunks = new List<(byte[] Bytes, bool IsObject)>();
            for (int at = 0; at < all.Length;)
            {
                int n = Math.Min(all.Length - at, random.Next(1, 40));
                chunks.AddRange(splitter.Push(all.AsSpan(at, n)));
                at += n;
            }
            Assert.Equal(all, chunks.SelectMany(c => c.Bytes).Concat(splitter.TakeRest()).ToArray());
            var objects = chunks.Where(c => c.IsObject).Select(c => JsonDocument.Parse(c.Bytes).RootElement.GetProperty("id").GetInt32()).ToArray();
            Assert.Equal([1, 2, 3], objects);
        }
    }

    [Fact]
    public void AStrayClosingBraceOrAnEndlessObjectIsPassedOnUnjudged()
    {
        var splitter = new QmpObjectSplitter();
        var stray = splitter.Push("}{\"a\":1}"u8);
        Assert.Equal([("}", false), ("{\"a\":1}", true)], stray.Select(c => (Encoding.UTF8.GetString(c.Bytes), c.IsObject)));

        var endless = new QmpObjectSplitter();
        var chunks = endless.Push(Encoding.UTF8.GetBytes("{\"a\":\"" + new string('x', QmpObjectSplitter.MaxPending)));
        Assert.Single(chunks);
        Assert.False(chunks[0].IsObject);
        Assert.Equal(0, endless.PendingCount);
    }

    [Theory]
    [InlineData("{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":{\"enable\":true},\"id\":7}", true, "7")]
    [InlineData("{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":{\"enable\":true},\"id\":\"libxl-3\"}", true, "\"libxl-3\"")]
    [InlineData("{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":{\"enable\":true}}", true, null)]
    [InlineData("{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":{\"enable\":false},\"id\":8}", false, null)]
    [InlineData("{\"execute\":\"xen-save-devices-state\",\"arguments\":{\"filename\":\"/dev/fdset/1\",\"live\":true},\"id\":9}", false, null)]
    [InlineData("{\"execute\":\"xen-set-global-dirty-log\",\"arguments\":{\"enable\":tru", false, null)]
    public void OnlyARequestToEnableQemusDirtyLogIsJudged(string command, bool judged, string? id)
    {
        Assert.Equal(judged, MigrationRefusal.IsDirtyLogEnable(Encoding.UTF8.GetBytes(command), out string? got));
        Assert.Equal(id, got);
    }

    [Theory]
    [InlineData(true, "/usr/sbin/xl", "migrate", "-s", "ssh -p 2222", "guest", "host2")]
    [InlineData(true, "xl", "-vvv", "migrate", "guest", "host2")]
    [InlineData(true, "/usr/lib/xen-4.17/bin/xl", "remus", "guest", "host2")]
    [InlineData(false, "/usr/sbin/xl", "save", "guest", "/var/lib/xen/save/guest")]
    [InlineData(false, "/usr/sbin/xl", "migrate-receive")]
    [InlineData(false, "/usr/sbin/libvirtd", "migrate")]
    [InlineData(false, "xl")]
    public void OnlyXlMigrateAndRemusAreLiveMigrations(bool live, params string[] argv) =>
        Assert.Equal(live, MigrationRefusal.IsLiveMigration(argv));

    [Fact]
    public void TheRefusalIsAQmpErrorWithTheCommandsIdAndTheReason()
    {
        string reason = MigrationRefusal.Reason(12);
        byte[] reply = MigrationRefusal.ErrorReply("\"libxl-4\"", reason);
        Assert.EndsWith("\r\n", Encoding.UTF8.GetString(reply));
        var root = JsonDocument.Parse(reply).RootElement;
        Assert.Equal("libxl-4", root.GetProperty("id").GetString());
        Assert.Equal("GenericError", root.GetProperty("error").GetProperty("class").GetString());
        Assert.Equal(reason, root.GetProperty("error").GetProperty("desc").GetString());
        Assert.Contains("domain 12", reason);
        Assert.Contains("before the guest was suspended", reason);
        Assert.False(JsonDocument.Parse(MigrationRefusal.ErrorReply(null, "x")).RootElement.TryGetProperty("id", out _));
    }
}
