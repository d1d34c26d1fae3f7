using System.Buffers.Binary;
using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;
using XenVnvdimm.DeviceModel.Dsm;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.Tests.Dsm;

/// <summary>
/// A hostile guest: a million random, structured and mutated mailbox pages. The service must never
/// throw, never touch a byte outside the page (guard zones either side), always publish a response
/// of at most the data area for a Request, leave any other page untouched, and never call a label
/// store outside its area or above its transfer limit.
/// </summary>
public sealed class DsmFuzzTests(ITestOutputHelper output)
{
    private const int Iterations = 1_000_000;

    // Values near every boundary the service checks.
    private static readonly uint[] s_commands = [0, 1, 2, 3, 4, 5, 6, 0xFFFF_FFFF];
    private static readonly uint[] s_handles = [0, 1, 2, 3, 4, 0x8000_0001, 0xFFFF_FFFF];
    private static readonly uint[] s_revisions = [0, 1, 1, 1, 2, 0xFFFF_FFFF];
    private static readonly uint[] s_functions = [0, 1, 3, 4, 5, 5, 6, 6, 7, 0xFFFF_FFFF];
    private static readonly uint[] s_families = [0, 1, 1, 2, 0xFFFF_FFFF];
    private static readonly uint[] s_offsets = [0, 1, 255, 256, 4024, 8191, 8192, 131_071, 131_072, 131_073, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFF0, 0xFFFF_FFFF];
    private static readonly uint[] s_lengths = [0, 1, 8, 99, 100, 101, 256, 4023, 4024, 4025, 4028, 0x8000_0000, 0xFFFF_FFFF];
    private static readonly uint[] s_inputLengths = [0, 3, 4, 7, 8, 9, 264, 4031, 4032, 4033, 0x8000_0000, 0xFFFF_FFFF];

    [Fact]
    public void A_million_hostile_pages_never_throw_and_never_escape_the_page()
    {
        var labelled = new MemoryLabelStore(128 * 1024);
        var small = new MemoryLabelStore(8 * 1024, maxTransfer: 100);
        var fit = new FakeFit(FakeFit.Pattern(10_000));
        var service = new DsmService([new DsmDevice(1, labelled), new DsmDevice(2, null), new DsmDevice(4, small)], fit, NullLogger.Instance);
        var box = new Mailbox();
        service.Publish(box.Page);
        var random = new Random(20261125);
        var before = new byte[P.PageSize];
        var clock = Stopwatch.StartNew();
        int served = 0;

        for (int i = 0; i < Iterations; i++)
        {
            if (i % 50_000 == 49_999)
                fit.Replace(FakeFit.Pattern(random.Next(1, 20_000), salt: i)); // hot-adds mid-stream

            switch (random.Next(8))
            {
                case 0: random.NextBytes(box.Page); break;                       // pure noise
                case 1: case 2: Mutate(box.Page, random); break;                  // mutate the previous page
                default: Structured(box, random); break;                          // plausible but wrong
            }
            if (random.Next(10) != 0)
                box[P.StateOffset] = P.StateRequest;
            bool request = box[P.StateOffset] == P.StateRequest;
            if (!request)
                box.Page.CopyTo(before);

            // The span runs on past the page into the trailing guard zone, so bounds checks of
            // the span cannot hide an overrun: staying inside the page is the service's own doing.
            bool handled = service.HandleDoorbell(box.Buffer.AsSpan(Mailbox.Guard));

            if (handled != request)
                Assert.Fail($"iteration {i}: request {request} but handled {handled}");
            if (request)
            {
                served++;
                if (box.State != P.StateResponse || box.OutputLength is 0 or > P.DataSize)
                    Assert.Fail($"iteration {i}: state {box.State}, output length {box.OutputLength}");
            }
            else if (!box.Page.SequenceEqual(before))
            {
                Assert.Fail($"iteration {i}: a page without a request was modified");
            }
            if (!box.GuardsIntact)
                Assert.Fail($"iteration {i}: a byte outside the page was written");
        }

        clock.Stop();
        var s = service.Statistics;
        output.WriteLine($"{Iterations:N0} pages ({served:N0} requests) in {clock.Elapsed.TotalSeconds:F1} s: {s}");
        Assert.Equal(0, labelled.Violations + small.Violations);
        Assert.Equal(served, s.Requests);
        // The fuzz reached every outcome, including real label writes and FIT restarts.
        foreach (uint status in new uint[] { 0, 1, 2, 3, 0x100 })
            Assert.True(s.ForStatus(status) > 0, $"status {status} never produced");
        Assert.Equal(0, s.ForStatus(4));
        Assert.True(labelled.Writes > 0 && small.Writes > 0);
    }

    [Fact]
    public void A_guest_rewriting_the_page_while_it_is_served_cannot_break_out()
    {
        // TOCTOU: a second thread scribbles over the header and input while requests are served.
        var labelled = new MemoryLabelStore(128 * 1024);
        var service = new DsmService([new DsmDevice(1, labelled)], new FakeFit(FakeFit.Pattern(9000)), NullLogger.Instance);
        var box = new Mailbox();
        service.Publish(box.Page);
        using var stop = new CancellationTokenSource();
        var scribbler = new Thread(() =>
        {
            var r = new Random(3);
            var words = new uint[] { 0, 1, 4, 8, 4024, 4025, 0x1_F000, 0x2_0000, 0xFFFF_FFFF };
            while (!stop.IsCancellationRequested)
            {
                int at = P.CommandOffset + 4 * r.Next((P.DataOffset + 16 - P.CommandOffset) / 4);
                if (at != P.StateOffset)
                    BinaryPrimitives.WriteUInt32LittleEndian(box.Buffer.AsSpan(Mailbox.Guard + at), words[r.Next(words.Length)]);
            }
        });
        scribbler.Start();
        try
        {
            var random = new Random(4);
            for (int i = 0; i < 200_000; i++)
            {
                Structured(box, random);
                box[P.StateOffset] = P.StateRequest;
                Assert.True(service.HandleDoorbell(box.Page));
            }
        }
        finally
        {
            stop.Cancel();
            scribbler.Join();
        }
        Assert.True(box.GuardsIntact);
        Assert.Equal(0, labelled.Violations);
        Assert.Equal(200_000, service.Statistics.Requests);
    }

    private static void Mutate(Span<byte> page, Random random)
    {
        int flips = random.Next(1, 9);
        for (int k = 0; k < flips; k++)
        {
            // Mostly the header and the first input words, where the meaning is.
            int at = random.Next(4) == 0 ? random.Next(P.PageSize) : random.Next(P.DataOffset + 16);
            page[at] = random.Next(3) switch { 0 => (byte)random.Next(256), 1 => 0xFF, _ => (byte)(page[at] ^ (1 << random.Next(8))) };
        }
    }

    private static void Structured(Mailbox box, Random random)
    {
        T Pick<T>(T[] values) => values[random.Next(values.Length)];
        uint offset = random.Next(3) == 0 ? (uint)random.Next() : Pick(s_offsets);
        uint length = random.Next(3) == 0 ? (uint)random.Next(5000) : Pick(s_lengths);
        int dataBytes = random.Next(2) == 0 ? (int)Math.Min(length, 4024u) : random.Next(4025);
        var input = new byte[8 + dataBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(input, offset);
        BinaryPrimitives.WriteUInt32LittleEndian(input.AsSpan(4), length);
        random.NextBytes(input.AsSpan(8));
        uint? inputLength = random.Next(3) == 0 ? Pick(s_inputLengths) : null;
        box.Request(Pick(s_commands), Pick(s_handles), Pick(s_revisions), Pick(s_functions), Pick(s_families),
            input.AsSpan(0, Math.Min(input.Length, P.DataSize)), inputLength, state: 0);
    }
}
