using System.Globalization;
using System.Text.Json;
using XenVnvdimm.DeviceModel.Layout;

namespace XenVnvdimm.DeviceModel.Lifecycle;

/// <summary>
/// What a companion has done to its domain, as kept in its state file: enough for a successor to
/// re-attach after a crash without mapping anything twice (the frames, the mailbox page, the ioreq
/// server), and to refuse when its config describes something else.
/// </summary>
/// <param name="Pid">The companion's process id.</param>
/// <param name="Platform">xen or sim.</param>
/// <param name="Started">When it started.</param>
/// <param name="Domid">The guest.</param>
/// <param name="Phase"><see cref="Starting"/> until every stage is recorded, then <see cref="Serving"/>; <see cref="Stopped"/> after a stop that left the guest its pmem.</param>
/// <param name="Layout">The guest-wide layout settings, once serving.</param>
/// <param name="MailboxGfn">The DSM mailbox page it populated, once serving.</param>
/// <param name="IoreqServer">Its ioreq server, once serving.</param>
/// <param name="PmemInterface">How the frames were mapped (the mapper's interface name).</param>
/// <param name="Devices">Every device mapped or being mapped, by slot.</param>
public sealed record CompanionRecord(
    int Pid,
    string Platform,
    DateTimeOffset Started,
    uint Domid,
    string Phase,
    RecordedLayout? Layout,
    ulong? MailboxGfn,
    ushort? IoreqServer,
    string? PmemInterface,
    IReadOnlyList<RecordedDevice> Devices)
{
    /// <summary>Phase while start-up stages are under way.</summary>
    public const string Starting = "starting";

    /// <summary>Phase once everything mapped is recorded.</summary>
    public const string Serving = "serving";

    /// <summary>
    /// Phase after a stop that left the guest running (SIGTERM, an upgrade): its frames, mailbox page and
    /// backings stay; only the doorbell was released (<see cref="IoreqServer"/> is null). A new run re-attaches.
    /// </summary>
    public const string Stopped = "stopped";

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    /// <summary>The record a companion writes before it touches anything.</summary>
    public static CompanionRecord Fresh(uint domid, string platform) =>
        new(Environment.ProcessId, platform, DateTimeOffset.UtcNow, domid, Starting, null, null, null, null, []);

    /// <summary>Who it was, for messages: <c>pid=N, platform=P, started=T</c>.</summary>
    public string Summary => string.Create(CultureInfo.InvariantCulture, $"pid={Pid}, platform={Platform}, started={Started:O}");

    /// <summary>The record as the state file holds it.</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, s_json);

    /// <summary>Parses a state file's content; null when it is not a record.</summary>
    public static CompanionRecord? TryParse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<CompanionRecord>(json, s_json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>The guest-wide settings a re-attaching companion must find unchanged.</summary>
/// <param name="Slots">vnvdimm_slots.</param>
/// <param name="WindowBase">vnvdimm_base.</param>
/// <param name="MailboxGpa">dsm_mailbox.</param>
/// <param name="DoorbellPort">dsm_port.</param>
/// <param name="EventIrq">event_irq.</param>
public sealed record RecordedLayout(int Slots, ulong WindowBase, ulong MailboxGpa, ushort DoorbellPort, uint? EventIrq)
{
    /// <summary>The settings of <paramref name="layout"/>.</summary>
    public static RecordedLayout Of(GuestLayout layout) =>
        new(layout.SlotCount, layout.WindowBase, layout.MailboxGpa, layout.DoorbellPort, layout.EventIrq);
}
