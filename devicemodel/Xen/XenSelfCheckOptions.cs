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
