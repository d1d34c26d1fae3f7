using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.DeviceModel.Dsm;
using static XenVnvdimm.Tests.Dsm.Mailbox;

namespace XenVnvdimm.Tests.Dsm;

/// <summary>Well-formed calls, answered as Linux's nfit driver expects (drivers/acpi/nfit/core.c).</summary>
public sealed class DsmServiceTests
{
    private const uint Dsm = 1, Lsi = 2, Lsr = 3, Lsw = 4, Fit = 5;
    private const uint Root = 0, Intel = 1;
    private const int End = Rig.LabelSize;

    [Fact]
    public void Publish_writes_the_signature_and_an_idle_state()
    {
        var box = new Mailbox();
        box.Page.Fill(0xEE);
        new DsmService([], new FakeFit([1]), NullLogger.Instance).Publish(box.Page);
        Assert.Equal("XVND"u8.ToArray(), box.Page[..4].ToArray());
        Assert.Equal(0u, box.State);
        Assert.Equal(0u, box.OutputLength);
        Assert.True(box.GuardsIntact);
    }

    [Fact]
    public void Intel_function_0_lists_functions_0_4_5_6_for_a_labelled_device()
    {
        var box = new Rig().Call(Dsm, Rig.Labelled, 1, 0, Intel, []);
        Assert.Equal(new byte[] { 0b0111_0001 }, box.Output);
    }

    [Fact]
    public void Label_info_reports_size_and_max_transfer_through_LSI_and_function_4()
    {
        var rig = new Rig();
        // {u32 status, u32 size, u32 max_xfer}; max_xfer = 4032-byte data area − 8 (documented choice).
        byte[] expected = Words(0, End, 4024);
        Assert.Equal(expected, rig.Call(Lsi, Rig.Labelled, 1, 0, Intel, []).Output);
        Assert.Equal(expected, rig.Call(Dsm, Rig.Labelled, 1, 4, Intel, []).Output);
    }

    [Theory]
    [InlineData(Lsw, Lsr)]
    [InlineData(Dsm, Dsm)]
    [InlineData(Lsw, Dsm)]
    [InlineData(Dsm, Lsr)]
    public void Label_writes_read_back_at_the_edges_of_the_area(uint writeCommand, uint readCommand)
    {
        var rig = new Rig();
        var random = new Random(42);
        foreach (var (offset, length) in new[] { (0, 4024), (End - 4024, 4024), (End - 1, 1), (256, 256), (12345, 77) })
        {
            byte[] data = new byte[length];
            random.NextBytes(data);
            var w = rig.Call(writeCommand, Rig.Labelled, 1, writeCommand == Dsm ? 6u : 0u, Intel,
                Concat(Words((uint)offset, (uint)length), data));
            Assert.Equal(Words(0), w.Output);
            Assert.Equal(data, rig.Labels.Bytes.AsSpan(offset, length).ToArray());

            var r = rig.Call(readCommand, Rig.Labelled, 1, readCommand == Dsm ? 5u : 0u, Intel, Words((uint)offset, (uint)length));
            Assert.Equal(Concat(Words(0), data), r.Output);
        }
    }

    [Fact]
    public void Zero_length_read_at_the_end_is_an_empty_success()
    {
        var box = new Rig().Call(Lsr, Rig.Labelled, 1, 0, Intel, Words(End, 0));
        Assert.Equal(Words(0), box.Output);
    }

    [Fact]
    public void A_store_with_a_smaller_transfer_limit_reports_and_enforces_it()
    {
        var store = new MemoryLabelStore(64 * 1024, maxTransfer: 512);
        var service = new DsmService([new DsmDevice(9, store)], new FakeFit([1]), NullLogger.Instance);
        var box = new Mailbox();
        service.Publish(box.Page);
        box.Request(Lsi, 9, 1, 0, Intel, []);
        service.HandleDoorbell(box.Page);
        Assert.Equal(Words(0, 64 * 1024, 512), box.Output);
        box.Request(Lsr, 9, 1, 0, Intel, Words(0, 513));
        service.HandleDoorbell(box.Page);
        Assert.Equal(Words(3), box.Output);
    }

    [Fact]
    public void A_failing_store_answers_hardware_error_not_success()
    {
        var rig = new Rig();
        rig.Labels.Fail = true;
        Assert.Equal(Words(4), rig.Call(Lsw, Rig.Labelled, 1, 0, Intel, WriteInputOf(0, new byte[16])).Output);
        Assert.Equal(Words(4), rig.Call(Dsm, Rig.Labelled, 1, 5, Intel, Words(0, 16)).Output);
    }

    [Fact]
    public void FIT_reads_in_chunks_of_at_most_4028_bytes_and_ends_with_an_empty_chunk()
    {
        var rig = new Rig();
        var fit = ReadWholeFit(rig, out int chunks);
        Assert.Equal(rig.Fit.Fit.ToArray(), fit);
        Assert.Equal(3, chunks); // 10,000 bytes = 4028 + 4028 + 1944, then the empty chunk
    }

    [Fact]
    public void FIT_change_during_a_read_answers_0x100_until_the_guest_restarts_at_0()
    {
        var rig = new Rig();
        var first = rig.Call(Fit, 0, 1, 0, Root, Words(0));
        Assert.Equal(0u, first.Status);
        rig.Fit.Replace(FakeFit.Pattern(5000, salt: 3)); // hot-add

        Assert.Equal(Words(0x100), rig.Call(Fit, 0, 1, 0, Root, Words(4028)).Output);
        Assert.Equal(Words(0x100), rig.Call(Fit, 0, 1, 0, Root, Words(10)).Output);
        Assert.Equal(rig.Fit.Fit.ToArray(), ReadWholeFit(rig, out _));
    }

    [Fact]
    public void FIT_chunk_without_a_read_at_0_answers_0x100()
    {
        Assert.Equal(Words(0x100), new Rig().Call(Fit, 0, 1, 0, Root, Words(4028)).Output);
    }

    [Fact]
    public void FIT_offset_past_the_end_is_invalid_and_at_the_end_is_empty()
    {
        var rig = new Rig();
        rig.Call(Fit, 0, 1, 0, Root, Words(0));
        Assert.Equal(Words(3), rig.Call(Fit, 0, 1, 0, Root, Words(10_001)).Output);
        Assert.Equal(Words(3), rig.Call(Fit, 0, 1, 0, Root, Words(uint.MaxValue)).Output);
        Assert.Equal(Words(0), rig.Call(Fit, 0, 1, 0, Root, Words(10_000)).Output);
    }

    [Fact]
    public void Hot_added_device_is_served_and_handles_are_checked()
    {
        var rig = new Rig();
        Assert.Equal(2u, rig.Call(Lsi, 7, 1, 0, Intel, []).Status);
        rig.Service.AddDevice(new DsmDevice(7, new MemoryLabelStore(128 * 1024)));
        Assert.Equal(Words(0, 128 * 1024, 4024), rig.Call(Lsi, 7, 1, 0, Intel, []).Output);
        Assert.Throws<ArgumentException>(() => rig.Service.AddDevice(new DsmDevice(7, null)));
        Assert.Throws<ArgumentException>(() => rig.Service.AddDevice(new DsmDevice(0, null)));
    }

    [Fact]
    public void A_short_page_is_a_host_bug_and_throws()
    {
        var service = new Rig().Service;
        Assert.Throws<ArgumentException>(() => service.HandleDoorbell(new byte[4095]));
        Assert.Throws<ArgumentException>(() => service.Publish(new byte[100]));
    }

    [Fact]
    public void Statistics_count_commands_and_statuses()
    {
        var rig = new Rig();
        rig.Call(Lsi, Rig.Labelled, 1, 0, Intel, []);
        rig.Call(Lsr, Rig.Labelled, 1, 0, Intel, Words(0, 16));
        rig.Call(Lsr, Rig.Unknown, 1, 0, Intel, Words(0, 16));
        rig.Call(9, Rig.Labelled, 1, 0, Intel, []);
        var s = rig.Service.Statistics;
        Assert.Equal(4, s.Requests);
        Assert.Equal(2, s.ForCommand(Lsr));
        Assert.Equal(1, s.ForCommand(9));
        Assert.Equal(2, s.ForStatus(0));
        Assert.Equal(1, s.ForStatus(2));
        Assert.Equal(1, s.ForStatus(1));
        Assert.Contains("lsr=2", s.ToString());
        Assert.Matches(@"^service-time-us \(calls/mean/max\): label-info=1/[0-9.]+/[0-9.]+ label-read=2/[0-9.]+/[0-9.]+ unknown=1/[0-9.]+/[0-9.]+$", s.ServiceTimes());
        Assert.True(s.MaxServiceTime(DsmOperation.LabelRead) > TimeSpan.Zero && s.ServiceTime(DsmOperation.LabelRead) >= s.MaxServiceTime(DsmOperation.LabelRead));
        // The same operations through Intel _DSM functions 4/5/6 are timed alongside _LSI/_LSR/_LSW.
        Assert.Equal(DsmOperation.LabelRead, DsmStatistics.OperationOf(1, 1, 1, 5));
        Assert.Equal(DsmOperation.LabelWrite, DsmStatistics.OperationOf(1, 1, 1, 6));
        Assert.Equal(DsmOperation.OtherDsm, DsmStatistics.OperationOf(1, 0, 0, 5));
    }

    [Fact]
    public void Guest_polling_for_the_response_state_always_sees_the_complete_output()
    {
        // A "guest" thread polls the state exactly like XCAL; the response must be complete the
        // moment it sees state 2 (output written before the state, release ordering).
        var rig = new Rig();
        new Random(7).NextBytes(rig.Labels.Bytes);
        var box = rig.Mailbox;
        using var stop = new CancellationTokenSource();
        var server = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
                rig.Service.HandleDoorbell(box.Buffer.AsSpan(Mailbox.Guard, 4096));
        });
        server.Start();
        try
        {
            var random = new Random(8);
            for (int i = 0; i < 20_000; i++)
            {
                uint offset = (uint)random.Next(End - 64), length = (uint)random.Next(1, 64);
                box.Request(Lsr, Rig.Labelled, 1, 0, Intel, Words(offset, length), state: 0);
                Volatile.Write(ref box.Buffer[Mailbox.Guard + 4], 1); // state = Request, last
                while (Volatile.Read(ref box.Buffer[Mailbox.Guard + 4]) != 2)
                    Thread.SpinWait(1);
                Assert.Equal(4 + length, box.OutputLength);
                Assert.Equal(Concat(Words(0), rig.Labels.Bytes.AsSpan((int)offset, (int)length).ToArray()), box.Output);
            }
        }
        finally
        {
            stop.Cancel();
            server.Join();
        }
    }

    private static byte[] WriteInputOf(uint offset, byte[] data) => Concat(Words(offset, (uint)data.Length), data);

    /// <summary>Reads the FIT the way the _FIT method does: chunks from offset 0 until an empty one.</summary>
    private static byte[] ReadWholeFit(Rig rig, out int chunks)
    {
        var fit = new List<byte>();
        chunks = 0;
        while (true)
        {
            var box = rig.Call(Fit, 0, 1, 0, Root, Words((uint)fit.Count));
            Assert.Equal(0u, box.Status);
            var chunk = box.Output[4..];
            Assert.True(chunk.Length <= 4028);
            if (chunk.Length == 0)
                return fit.ToArray();
            fit.AddRange(chunk);
            chunks++;
        }
    }
}
