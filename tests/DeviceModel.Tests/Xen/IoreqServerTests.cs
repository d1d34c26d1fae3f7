using System.Collections.Concurrent;
using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.DeviceModel.Xen.Abi;
using XenVnvdimm.DeviceModel.Xen.Ioreq;
using XenVnvdimm.DeviceModel.Xen.Sim;

namespace XenVnvdimm.Tests.Xen;

/// <summary>The ioreq server loop against simulated vCPUs issuing port and MMIO accesses from threads.</summary>
public class IoreqServerTests
{
    private const ushort Doorbell = 0x0a18;
    private static readonly IoRange s_ports = new(IoSpace.Port, Doorbell, Doorbell + 7);

    [Fact]
    public void Answers_100000_port_accesses_from_4_vcpus_correctly_and_in_order_per_vcpu()
    {
        const int PerVcpu = 25_000; // half writes, half reads
        using var g = new SimGuest(vcpus: 4);
        var seen = Enumerable.Range(0, 4).Select(_ => new List<(bool Read, ulong Value)>()).ToArray();
        var lastWrite = new ulong[4];
        // A device whose reads depend on the same vCPU's previous write: any misrouting or reordering shows.
        ulong Handler(IoRequest r)
        {
            seen[r.Vcpu].Add((r.IsRead, r.Data));
            if (!r.IsRead)
            {
                lastWrite[r.Vcpu] = r.Data;
                return 0;
            }
            return lastWrite[r.Vcpu] * 3 + (ulong)r.Vcpu;
        }
        var server = g.Session.StartIoreqServer([s_ports], Handler);

        var failures = new ConcurrentQueue<string>();
        var threads = Enumerable.Range(0, 4).Select(v => new Thread(() =>
        {
            var cpu = g.Hv.Vcpu(g.Domain, v);
            for (uint i = 0; i < PerVcpu / 2; i++)
            {
                ulong value = ((ulong)v << 24) | i;
                cpu.Out(Doorbell, 4, value);
                ulong got = cpu.In(Doorbell + 4, 4);
                ulong want = (value * 3 + (ulong)v) & 0xFFFF_FFFF;
                if (got != want)
                    failures.Enqueue($"vCPU {v} access {i}: read 0x{got:x}, expected 0x{want:x}");
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        server.Dispose();

        Assert.Empty(failures);
        Assert.Equal(4 * PerVcpu, server.Completed);
        for (int v = 0; v < 4; v++)
        {
            Assert.Equal(PerVcpu, seen[v].Count);
            for (int i = 0; i < PerVcpu; i += 2)
            {
                Assert.Equal((false, ((ulong)v << 24) | (uint)(i / 2)), seen[v][i]);
                Assert.True(seen[v][i + 1].Read);
            }
        }
    }

    [Fact]
    public void Mmio_reads_and_writes_of_every_size_reach_the_handler_masked()
    {
        using var g = new SimGuest(vcpus: 1);
        var got = new List<IoRequest>();
        var server = g.Session.StartIoreqServer([new IoRange(IoSpace.Memory, 0xfe001000, 0xfe001fff)], r =>
        {
            got.Add(r);
            return 0x1122334455667788;
        });
        var cpu = g.Hv.Vcpu(g.Domain, 0);
        Assert.Equal(0x88UL, cpu.Read(0xfe001000, 1));
        Assert.Equal(0x7788UL, cpu.Read(0xfe001002, 2));
        Assert.Equal(0x55667788UL, cpu.Read(0xfe001004, 4));
        Assert.Equal(0x1122334455667788UL, cpu.Read(0xfe001008, 8));
        cpu.Write(0xfe001010, 2, 0xABCDEF);
        server.Dispose();

        Assert.Equal([1u, 2u, 4u, 8u, 2u], got.Select(r => r.Size));
        Assert.All(got, r => Assert.Equal(IoSpace.Memory, r.Space));
        Assert.Equal(new IoRequest(0, IoSpace.Memory, false, 0xfe001010, 2, 0xCDEF), got[^1]);
    }

    public static TheoryData<string, byte, uint, uint, byte> Hostile => new()
    {
        { "data_is_ptr", IoreqConstants.IOREQ_TYPE_PIO, 4, 1, IoreqConstants.IOREQ_DATA_IS_PTR_MASK | IoreqConstants.IOREQ_DIR_MASK },
        { "size 3", IoreqConstants.IOREQ_TYPE_PIO, 3, 1, IoreqConstants.IOREQ_DIR_MASK },
        { "size 0", IoreqConstants.IOREQ_TYPE_COPY, 0, 1, IoreqConstants.IOREQ_DIR_MASK },
        { "size 16", IoreqConstants.IOREQ_TYPE_COPY, 16, 1, IoreqConstants.IOREQ_DIR_MASK },
        { "rep count", IoreqConstants.IOREQ_TYPE_PIO, 1, 1000, IoreqConstants.IOREQ_DIR_MASK },
        { "invalidate", IoreqConstants.IOREQ_TYPE_INVALIDATE, 0, 0, 0 },
        { "timeoffset", IoreqConstants.IOREQ_TYPE_TIMEOFFSET, 8, 1, 0 },
        { "unknown type", 0xFF, 4, 1, IoreqConstants.IOREQ_DIR_MASK },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_requests_are_completed_without_calling_the_handler_and_serving_goes_on(string what, byte type, uint size, uint count, byte bits)
    {
        using var g = new SimGuest(vcpus: 2);
        int calls = 0;
        var server = g.Session.StartIoreqServer([s_ports], _ => { calls++; return 0x42; });
        var cpu = g.Hv.Vcpu(g.Domain, 1);
        var simServer = g.Domain.IoreqServers.Values.Single();
        var answer = cpu.Send(simServer, new ioreq_t { addr = Doorbell, data = 0x1234, size = size, count = count, type = type, bits = bits });

        Assert.True(server.Completed == 1, what);
        Assert.Equal(0, calls);
        if ((bits & IoreqConstants.IOREQ_DIR_MASK) != 0 && type is IoreqConstants.IOREQ_TYPE_PIO or IoreqConstants.IOREQ_TYPE_COPY)
            Assert.Equal(size is 1 or 2 or 4 ? (1UL << (int)(size * 8)) - 1 : ulong.MaxValue, answer.data);
        // The server is still alive and correct afterwards.
        Assert.Equal(0x42UL, cpu.In(Doorbell, 1));
        Assert.Equal(1, calls);
        server.Dispose();
    }

    [Fact]
    public void A_throwing_handler_answers_all_ones_and_does_not_stop_the_loop()
    {
        using var g = new SimGuest(vcpus: 1);
        int n = 0;
        var server = g.Session.StartIoreqServer([s_ports], _ => ++n == 1 ? throw new InvalidOperationException("device bug") : 7UL);
        var cpu = g.Hv.Vcpu(g.Domain, 0);
        Assert.Equal(0xFFFFUL, cpu.In(Doorbell, 2));
        Assert.Equal(7UL, cpu.In(Doorbell, 2));
        Assert.Equal(1, server.Refused);
        server.Dispose();
    }

    [Fact]
    public void Accesses_outside_the_mapped_ranges_do_not_reach_the_server()
    {
        using var g = new SimGuest(vcpus: 1);
        int calls = 0;
        var server = g.Session.StartIoreqServer([s_ports], _ => { calls++; return 0; });
        var cpu = g.Hv.Vcpu(g.Domain, 0);
        Assert.Equal(0xFFUL, cpu.In(Doorbell - 1, 1));
        Assert.Equal(0xFFFFUL, cpu.In(Doorbell + 7, 2)); // straddles the end of the range
        Assert.Equal(0, calls);
        server.Dispose();
    }

    [Fact]
    public void Teardown_unbinds_disables_and_destroys_the_server()
    {
        using var g = new SimGuest(vcpus: 2);
        var server = g.Session.StartIoreqServer([s_ports], _ => 1);
        Assert.Single(g.Domain.IoreqServers);
        Assert.Equal(1UL, g.Hv.Vcpu(g.Domain, 0).In(Doorbell, 1));
        server.Dispose();
        Assert.Empty(g.Domain.IoreqServers);
        Assert.Equal(0xFFUL, g.Hv.Vcpu(g.Domain, 0).In(Doorbell, 1));
        Assert.Equal(1, g.Hv.Counters[$"dm_op:{DmOpConstants.XEN_DMOP_destroy_ioreq_server}"]);
    }

    [Fact]
    public void A_failure_while_starting_undoes_the_stages_already_done()
    {
        using var g = new SimGuest(vcpus: 2);
        // DM ops: nr_vcpus (0), create (1), map_io_range (2) fails.
        g.Hv.Faults.Add(new SimFault(SimOp.DmOp, AfterCalls: 2, XenConstants.XEN_ENOMEM));
        var e = Assert.Throws<XenException>(() => g.Session.StartIoreqServer([s_ports], _ => 0));
        Assert.Equal(XenConstants.XEN_ENOMEM, e.Errno);
        Assert.Empty(g.Domain.IoreqServers);
    }
}
