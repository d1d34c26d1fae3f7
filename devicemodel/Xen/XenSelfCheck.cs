using System.Diagnostics;
using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Xen.Ioreq;

namespace XenVnvdimm.DeviceModel.Xen;

/// <summary>What <see cref="XenSelfCheck"/> should exercise on a paused (or running) guest.</summary>
internal sealed class XenSelfCheckOptions
{
    /// <summary>Doorbell ports to serve (inclusive); the guest is expected to access them.</summary>
    public IoRange Doorbell { get; init; } = new(IoSpace.Port, 0x0a18, 0x0a1b);

    /// <summary>Value every read of the doorbell returns (the lab's guest checks it).</summary>
    public ulong ReadValue { get; init; } = 0x5a5a5a5a;

    /// <summary>How long to wait for the guest's first doorbell access; zero skips the wait.</summary>
    public TimeSpan WaitForGuest { get; init; } = TimeSpan.Zero;

    /// <summary>Pmem runs to map and unmap again; empty skips that step.</summary>
    public IReadOnlyList<FrameRun> PmemRuns { get; init; } = [];

    /// <summary>A guest RAM page to foreign-map and stamp; null skips that step.</summary>
    public ulong? MailboxGfn { get; init; }

    /// <summary>An ISA IRQ to pulse; null skips that step.</summary>
    public byte? IsaIrq { get; init; }
}

/// <summary>One step's outcome.</summary>
internal sealed record SelfCheckStep(string Name, bool Ok, string Detail);

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
                return $"gfn {gfn:#x} stamped";
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
            return $"server {server.Id} on {options.Doorbell.Space}:{options.Doorbell.First:#x}-{options.Doorbell.Last:#x}";
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
