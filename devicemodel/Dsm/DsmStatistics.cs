using System.Text;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.DeviceModel.Dsm;

/// <summary>
/// Counters of the DSM service: requests per command and per answered status, and doorbells that
/// found no request. Updated with interlocked increments so a logger or benchmark may read them
/// while the service runs.
/// </summary>
public sealed class DsmStatistics
{
    // Index 0 collects unknown command codes; 1..5 are the protocol's commands.
    private const int CommandSlots = (int)P.CommandReadFit + 1;
    private readonly long[] _byCommand = new long[CommandSlots];
    private readonly long[] _byStatus = new long[StatusSlots];
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

    internal void CountIdle() => Interlocked.Increment(ref _idleDoorbells);

    internal void Count(uint command, uint status)
    {
        Interlocked.Increment(ref _byCommand[CommandSlot(command)]);
        if (StatusSlot(status) is int s)
            Interlocked.Increment(ref _byStatus[s]);
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
}
