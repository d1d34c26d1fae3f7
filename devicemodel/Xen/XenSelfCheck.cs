using System.Diagnostics;
using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Xen.Ioreq;

namespace XenVnvdimm.DeviceModel.Xen;

/// <summary>
/// Runs the companion's Xen paths once, in the order the companion uses them, and reports each step:
/// the same code the tests run on the simulator, meant for the Xen lab (real Xen 4.17) to run unchanged
/// with <see cref="XenDevices.OpenHost"/>.
/// </summary>
internal static class XenSelfCheck
{
    /// <summary>Mailbox stamp written by the mailbox step: "XVNV" then the domid.</summary>
    public static ReadOnlySpan<byte> Stamp => "XVNV"u8;

    /// <summary>Runs every configured step against <paramref name="domid"/>; never throws for a failed step.</summary>
    public static IReadOnlyList<SelfCheckStep> Run(XenDevices devices, ushort domid, XenSelfCheckOptions options, ILoggerFactory logging)
    {
        var steps = new List<SelfCheckStep>();
        using var session = XenGuestSession.Open(devices, domid, new XenSessionOptions(), logging);

        Step(steps, "dm_op nr_vcpus", () => $"{session.Dm.NrVcpus()} vCPUs");

        if (options.PmemRuns.Count > 0)
        {
            Step(steps, "pmem map", () =>
            {
                long before = session.Privcmd.IoctlCount;
                var sw = Stopwatch.StartNew();
                session.Pmem.Map(options.PmemRuns);
                return $"{session.Pmem.Interface}: {session.Privcmd.IoctlCount - before} ioctls, {sw.Elapsed.TotalMilliseconds:0.0} ms";
            });
        }

        if (options.MailboxGfn is ulong gfn)
        {
            Step(steps, "mailbox foreign map", () =>
            {
                using var page = session.Foreign.MapPage(gfn);
                Stamp.CopyTo(page.Bytes);
                BitConverter.TryWriteBytes(page.Bytes[4..], domid);
                return $"gfn 0x{gfn:x} stamped";
            });
        }

        int accesses = 0;
        IIoreqServer? server = null;
        Step(steps, "ioreq server", () =>
        {
            server = session.StartIoreqServer([options.Doorbell], r =>
            {
                Interlocked.Increment(ref accesses);
                return options.ReadValue;
            });
            return $"server {server.Id} on {options.Doorbell.Space}:0x{options.Doorbell.First:x}-0x{options.Doorbell.Last:x}";
        });
        if (server is not null && options.WaitForGuest > TimeSpan.Zero)
        {
            var deadline = DateTime.UtcNow + options.WaitForGuest;
            while (Volatile.Read(ref accesses) == 0 && DateTime.UtcNow < deadline)
                Thread.Sleep(10);
            steps.Add(new SelfCheckStep("guest doorbell access", accesses > 0, $"{accesses} accesses, {server.Completed} requests completed"));
        }

        if (options.IsaIrq is byte irq)
            Step(steps, "isa irq pulse", () => { session.IsaIrq(irq).Pulse(TimeSpan.FromMilliseconds(1)); return $"IRQ {irq}"; });

        if (options.PmemRuns.Count > 0)
            Step(steps, "pmem unmap", () => { session.Pmem.Unmap(); return "removed"; });
        return steps;
    }

    private static void Step(List<SelfCheckStep> steps, string name, Func<string> action)
    {
        try
        {
            steps.Add(new SelfCheckStep(name, true, action()));
        }
        catch (Exception e) when (e is XenException or ArgumentException or InvalidOperationException)
        {
            steps.Add(new SelfCheckStep(name, false, e.Message));
        }
    }
}
