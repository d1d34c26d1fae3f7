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
    private readonly long[] _ticksByCommand = new long[CommandSlots];
    private readonly long[] _maxTicksByCommand = new long[CommandSlots];
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

    /// <summary>Total service time of the requests for <paramref name="command"/> (unknown codes together).</summary>
    public TimeSpan ServiceTime(uint command) => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _ticksByCommand[CommandSlot(command)]));

    /// <summary>Longest service time of one request for <paramref name="command"/>.</summary>
    public TimeSpan MaxServiceTime(uint command) => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _maxTicksByCommand[CommandSlot(command)]));

    internal void CountIdle() => Interlocked.Increment(ref _idleDoorbells);

    internal void Count(uint command, uint status, long elapsedTicks = 0)
    {
        int c = CommandSlot(command);
        Interlocked.Increment(ref _byCommand[c]);
        if (StatusSlot(status) is int s)
            Interlocked.Increment(ref _byStatus[s]);
        Interlocked.Add(ref _ticksByCommand[c], elapsedTicks);
        long max;
        while (elapsedTicks > (max = Interlocked.Read(ref _maxTicksByCommand[c])) &&
               Interlocked.CompareExchange(ref _maxTicksByCommand[c], elapsedTicks, max) != max)
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
    /// One line for logs and benchmarks: per command with requests, <c>name=calls/mean/max</c> in
    /// microseconds of service time, e.g. <c>lsr=66/12.4/180.0</c>.
    /// </summary>
    public string ServiceTimes()
    {
        var b = new StringBuilder("service-time-us (calls/mean/max):");
        foreach (var (name, command) in new[] { ("dsm", P.CommandDsm), ("lsi", P.CommandLabelInfo), ("lsr", P.CommandLabelRead),
                                                ("lsw", P.CommandLabelWrite), ("fit", P.CommandReadFit), ("unknown-command", 0u) })
        {
            long n = ForCommand(command);
            if (n == 0)
                continue;
            b.Append(CultureInfo.InvariantCulture,
                $" {name}={n}/{ServiceTime(command).TotalMicroseconds / n:F1}/{MaxServiceTime(command).TotalMicroseconds:F1}");
        }
        return b.ToString();
    }
}
