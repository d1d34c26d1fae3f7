using System.Diagnostics;
using System.Globalization;
using System.Text;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.DeviceModel.Dsm;

/// <summary>
/// Counters of the DSM service: requests per command and per answered status, doorbells that
/// found no request, and the service time per command (from the request's copy to the Response
/// state, i.e. the companion's own cost of a call, label-file I/O included, transport excluded).
/// Updated with interlocked operations so a logger or benchmark may read them while the service runs.
/// </summary>
public sealed class DsmStatistics
{
    // Index 0 collects unknown command codes; 1..5 are the protocol's commands.
    private const int CommandSlots = (int)P.CommandReadFit + 1;
    private readonly long[] _byCommand = new long[CommandSlots];
    private readonly long[] _byStatus = new long[StatusSlots];
    private readonly long[] _callsByOperation = new long[OperationSlots];
    private readonly long[] _ticksByOperation = new long[OperationSlots];
    private readonly long[] _maxTicksByOperation = new long[OperationSlots];
    private const int OperationSlots = (int)DsmOperation.Unknown + 1;
    private long _idleDoorbells;

    // Slots: 0..4 the plain statuses, 5 FIT changed.
    private const int StatusSlots = 6;

    /// <summary>Requests served (every doorbell that found state Request).</summary>
    public long Requests
    {
        get
        {
            long n = 0;
            for (int i = 0; i < _byCommand.Length; i++)
                n += Interlocked.Read(ref _byCommand[i]);
            return n;
        }
    }

    /// <summary>Doorbells that found no request (state not Request) and were ignored.</summary>
    public long IdleDoorbells => Interlocked.Read(ref _idleDoorbells);

    /// <summary>Requests served for <paramref name="command"/>; unknown codes are counted together.</summary>
    public long ForCommand(uint command) => Interlocked.Read(ref _byCommand[CommandSlot(command)]);

    /// <summary>Answers with <paramref name="status"/> (0–4 or <see cref="P.StatusFitChanged"/>; other values read 0).</summary>
    public long ForStatus(uint status) => StatusSlot(status) is int s ? Interlocked.Read(ref _byStatus[s]) : 0;

    /// <summary>Requests timed as <paramref name="operation"/>.</summary>
    public long Calls(DsmOperation operation) => Interlocked.Read(ref _callsByOperation[(int)operation]);

    /// <summary>Total service time of the requests of <paramref name="operation"/>.</summary>
    public TimeSpan ServiceTime(DsmOperation operation) => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticksByOperation[(int)operation]));

    /// <summary>Longest service time of one request of <paramref name="operation"/>.</summary>
    public TimeSpan MaxServiceTime(DsmOperation operation) => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _maxTicksByOperation[(int)operation]));

    /// <summary>What a request does, whichever path the guest took (_LSx method or Intel _DSM function 4/5/6).</summary>
    public static DsmOperation OperationOf(uint command, uint handle, uint family, uint function) => command switch
    {
        P.CommandLabelInfo => DsmOperation.LabelInfo,
        P.CommandLabelRead => DsmOperation.LabelRead,
        P.CommandLabelWrite => DsmOperation.LabelWrite,
        P.CommandReadFit => DsmOperation.Fit,
        P.CommandDsm when handle != 0 && family == P.FamilyIntel && function == 4 => DsmOperation.LabelInfo,
        P.CommandDsm when handle != 0 && family == P.FamilyIntel && function == 5 => DsmOperation.LabelRead,
        P.CommandDsm when handle != 0 && family == P.FamilyIntel && function == 6 => DsmOperation.LabelWrite,
        P.CommandDsm => DsmOperation.OtherDsm,
        _ => DsmOperation.Unknown,
    };

    internal void CountIdle() => Interlocked.Increment(ref _idleDoorbells);

    internal void Count(uint command, uint status, DsmOperation operation, long elapsedTicks)
    {
        Interlocked.Increment(ref _byCommand[CommandSlot(command)]);
        if (StatusSlot(status) is int s)
            Interlocked.Increment(ref _byStatus[s]);
        int o = (int)operation;
        Interlocked.Increment(ref _callsByOperation[o]);
        Interlocked.Add(ref _ticksByOperation[o], elapsedTicks);
        long max;
        while (elapsedTicks > (max = Interlocked.Read(ref _maxTicksByOperation[o])) &&
               Interlocked.CompareExchange(ref _maxTicksByOperation[o], elapsedTicks, max) != max)
        {
        }
    }

    private static int CommandSlot(uint command) => command is >= P.CommandDsm and <= P.CommandReadFit ? (int)command : 0;

    private static int? StatusSlot(uint status) => status switch
    {
        <= DsmLimits.StatusHardwareError => (int)status,
        P.StatusFitChanged => 5,
        _ => null,
    };

    /// <summary>One line for logs: requests per command and per status.</summary>
    public override string ToString()
    {
        var b = new StringBuilder();
        b.Append($"requests={Requests} idle-doorbells={IdleDoorbells}");
        b.Append($" dsm={ForCommand(P.CommandDsm)} lsi={ForCommand(P.CommandLabelInfo)} lsr={ForCommand(P.CommandLabelRead)}");
        b.Append($" lsw={ForCommand(P.CommandLabelWrite)} fit={ForCommand(P.CommandReadFit)} unknown-command={ForCommand(0)}");
        b.Append($" ok={ForStatus(P.StatusSuccess)} unsupported={ForStatus(P.StatusNotSupported)}");
        b.Append($" no-device={ForStatus(P.StatusNoSuchDevice)} invalid={ForStatus(P.StatusInvalidInput)}");
        b.Append($" hw-error={ForStatus(DsmLimits.StatusHardwareError)} fit-changed={ForStatus(P.StatusFitChanged)}");
        return b.ToString();
    }

    /// <summary>
    /// One line for logs and benchmarks: per operation with requests, <c>name=calls/mean/max</c> in
    /// microseconds of service time, e.g. <c>label-read=66/12.4/180.0</c>.
    /// </summary>
    public string ServiceTimes()
    {
        var b = new StringBuilder("service-time-us (calls/mean/max):");
        foreach (var (name, op) in new[] { ("label-info", DsmOperation.LabelInfo), ("label-read", DsmOperation.LabelRead), ("label-write", DsmOperation.LabelWrite),
                                           ("fit", DsmOperation.Fit), ("other-dsm", DsmOperation.OtherDsm), ("unknown", DsmOperation.Unknown) })
        {
            long n = Calls(op);
            if (n == 0)
                continue;
            b.Append(CultureInfo.InvariantCulture, $" {name}={n}/{ServiceTime(op).TotalMicroseconds / n:F1}/{MaxServiceTime(op).TotalMicroseconds:F1}");
        }
        return b.ToString();
    }
}

/// <summary>What a DSM request does, for service-time accounting.</summary>
public enum DsmOperation
{
    /// <summary>_LSI, or Intel _DSM function 4 (get config size).</summary>
    LabelInfo,

    /// <summary>_LSR, or Intel _DSM function 5 (get config data).</summary>
    LabelRead,

    /// <summary>_LSW, or Intel _DSM function 6 (set config data).</summary>
    LabelWrite,

    /// <summary>A FIT chunk read.</summary>
    Fit,

    /// <summary>Any other _DSM (function 0 queries, root functions, unsupported ones).</summary>
    OtherDsm,

    /// <summary>An unknown command code.</summary>
    Unknown,
}
