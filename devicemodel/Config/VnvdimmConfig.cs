using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Layout;

namespace XenVnvdimm.DeviceModel.Config;

/// <summary>Which guest platform the tables are built for; it selects the defaults.</summary>
public enum GuestPlatform
{
    /// <summary>A Xen HVM guest (hvmloader DSDT revision 2).</summary>
    Xen,
    /// <summary>The embedded QEMU TCG guest (DSDT revision 1, 32-bit AML integers).</summary>
    Qemu,
}

/// <summary>Persistence domain advertised in the NFIT platform capabilities structure.</summary>
public enum PersistenceDomain
{
    /// <summary>No platform capabilities structure.</summary>
    None,
    /// <summary>CPU caches and memory controller are flushed on power loss.</summary>
    Cpu,
    /// <summary>Only the memory controller is flushed on power loss.</summary>
    MemoryController,
}

/// <summary>The vNVDIMM part of a guest's configuration.</summary>
/// <param name="Devices">The vnvdimms entries, in file order.</param>
/// <param name="WindowBase">Guest-physical base of the vNVDIMM window.</param>
/// <param name="MailboxGpa">GPA of the DSM mailbox page.</param>
/// <param name="DoorbellPort">Doorbell I/O port.</param>
/// <param name="EventIrq">Hot-add event interrupt, or null for no event device.</param>
/// <param name="SlotCount">Slots pre-declared in the SSDT.</param>
/// <param name="Persistence">Platform capabilities to advertise.</param>
/// <param name="MemoryMap">The Xen guest's memory map (memory, maxmem, mmio_hole); null on the qemu platform.</param>
/// <param name="BaseGiven">Whether vnvdimm_base was set in the config (errors then name it).</param>
public sealed record VnvdimmConfig(
    IReadOnlyList<VnvdimmDeviceSpec> Devices,
    ulong WindowBase,
    ulong MailboxGpa,
    ushort DoorbellPort,
    uint? EventIrq,
    int SlotCount,
    PersistenceDomain Persistence,
    GuestMemoryMap? MemoryMap = null,
    bool BaseGiven = false)
{
    /// <summary>Most vNVDIMMs one guest may have.</summary>
    public const int MaxDevices = 64;

    /// <summary>Default slot count when not configured (at least the configured devices).</summary>
    public const int DefaultSlotCount = 16;

    /// <summary>
    /// Platform defaults: (window base, mailbox GPA, doorbell port, event IRQ). On xen the window base is
    /// replaced by the first 1 GiB boundary above the guest's RAM (<see cref="GuestMemoryMap.DefaultWindowBase"/>).
    /// </summary>
    public static (ulong Base, ulong Mailbox, ushort Port, uint? Irq) Defaults(GuestPlatform platform) => platform switch
    {
        // hvmloader marks 0xfe000000 reserved in E820; proven as a mailbox in the Xen lab.
        GuestPlatform.Xen => (4UL << 30, 0xFE000000, 0x0A18, 7),
        // The qemu platform hides 0x3f000000 from a 1 GiB guest with memmap=1M$0x3F000000.
        _ => (4UL << 30, 0x3F000000, 0x0A18, 5),
    };

    /// <summary>Reads the vNVDIMM settings from an xl config file.</summary>
    public static VnvdimmConfig Load(string path, GuestPlatform platform, ILogger logger) =>
        FromFile(ReadFile(path), platform, logger);

    /// <summary>Reads and parses an xl config file.</summary>
    public static XlConfigFile ReadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"cannot read config '{path}': {e.Message}");
        }
        return XlConfigFile.Parse(text, path);
    }

    /// <summary>Builds the configuration from parsed settings.</summary>
    public static VnvdimmConfig FromFile(XlConfigFile file, GuestPlatform platform, ILogger logger)
    {
        var d = Defaults(platform);
        var devices = new List<VnvdimmDeviceSpec>();
        ulong? windowBase = null;
        ulong mailbox = d.Mailbox;
        ulong? memory = null, maxmem = null, mmioHole = null;
        ushort port = d.Port;
        uint? irq = d.Irq;
        int? slots = null;
        var persistence = PersistenceDomain.None;

        foreach (var (key, value) in file.Values)
        {
            switch (key)
            {
                // libxl never runs a device_model_override in dom0 for a stubdomain guest, so
                // nothing would start the companion that maps the guest's pmem.
                case "device_model_stubdomain_override" when value.Scalar is not null and not "0":
                    throw new UserErrorException($"device_model_stubdomain_override (line {value.Line}): vNVDIMMs need the device model in dom0; stubdomain device models are not supported");
                case "vnvdimms":
                    var entries = value.StringList(key)
                        ?? throw new UserErrorException($"vnvdimms (line {value.Line}) must be a list of strings");
                    for (int i = 0; i < entries.Count; i++)
                        devices.Add(VnvdimmDeviceSpec.Parse(entries[i], $"vnvdimms[{i}]"));
                    break;
                case "vnvdimm_base": windowBase = Scalar(key, value); break;
                case "dsm_mailbox": mailbox = Scalar(key, value); break;
                case "memory": memory = Mebibytes(key, value); break;
                case "maxmem": maxmem = Mebibytes(key, value); break;
                case "mmio_hole": mmioHole = Mebibytes(key, value); break;
                case "dsm_port":
                    ulong p = Scalar(key, value);
                    if (IsaResources.WhyNotPort(p) is string why)
                        throw new UserErrorException($"dsm_port {value.Scalar} {why}");
                    port = (ushort)p;
                    break;
                case "event_irq":
                    if (value.Scalar is "none" or "off")
                    {
                        irq = null;
                        break;
                    }
                    ulong q = Scalar(key, value);
                    var free = IsaResources.FreeIrqs(platform);
                    if (q > 15 || !free.Contains((uint)q))
                        throw new UserErrorException($"event_irq {value.Scalar} must be an ISA interrupt the {platform.ToString().ToLowerInvariant()} platform leaves free ({string.Join(", ", free)}), or 'none'");
                    irq = (uint)q;
                    break;
                case "vnvdimm_slots":
                    ulong s = Scalar(key, value);
                    if (s is 0 or > MaxDevices)
                        throw new UserErrorException($"vnvdimm_slots {value.Scalar} is outside 1..{MaxDevices}");
                    slots = (int)s;
                    break;
                case "vnvdimm_persistence":
                    persistence = value.Scalar switch
                    {
                        "cpu" => PersistenceDomain.Cpu,
                        "mem-ctrl" => PersistenceDomain.MemoryController,
                        "none" => PersistenceDomain.None,
                        _ => throw new UserErrorException($"vnvdimm_persistence '{value.Scalar}' must be cpu, mem-ctrl or none"),
                    };
                    break;
                // A misspelt vNVDIMM key would silently mean no devices: say so at the default level.
                case var _ when key.StartsWith("vnvdimm", StringComparison.Ordinal) || key.StartsWith("dsm_", StringComparison.Ordinal):
                    logger.LogWarning("ignoring unknown setting '{Key}' (line {Line}): not a vNVDIMM setting (misspelt 'vnvdimms'?)", key, value.Line);
                    break;
                default:
                    logger.LogDebug("ignoring setting '{Key}' (line {Line}): not a vNVDIMM setting", key, value.Line);
                    break;
            }
        }

        if (devices.Count > MaxDevices)
            throw new UserErrorException($"vnvdimms has {devices.Count} entries; at most {MaxDevices} are supported");
        if (mailbox % 4096 != 0 || mailbox > (1UL << 32) - 4096)
            throw new UserErrorException($"dsm_mailbox 0x{mailbox:x} must be a 4K-aligned page below 4 GiB (AML may use 32-bit integers)");

        // The qemu platform's guest is not built by libxl: its RAM size is a run option, below 4 GiB.
        var map = platform == GuestPlatform.Xen ? GuestMemoryMap.Xen(memory, maxmem, mmioHole) : null;
        if (map?.WhyNotMailbox(mailbox) is string badMailbox)
            throw new UserErrorException($"dsm_mailbox 0x{mailbox:x}: the page 0x{mailbox:x}-0x{mailbox + 4095:x} {badMailbox}");
        if (windowBase == 0)
            throw new UserErrorException("vnvdimm_base 0x0: the window cannot start at guest address 0 (the guest's low RAM and real-mode vectors)");
        if (windowBase is ulong b && map?.WhyNotWindow(b, b) is string badBase)
            throw new UserErrorException($"vnvdimm_base 0x{b:x}: the base {badBase}");

        int maxSlot = devices.Select(dv => dv.Slot ?? -1).DefaultIfEmpty(-1).Max();
        int slotCount = slots ?? Math.Max(DefaultSlotCount, Math.Max(devices.Count, maxSlot + 1));
        if (slotCount < devices.Count)
            throw new UserErrorException($"vnvdimm_slots {slotCount} is fewer than the {devices.Count} configured vnvdimms");
        foreach (var dv in devices)
            if (dv.Slot >= slotCount)
                throw new UserErrorException($"{dv.Name}: slot {dv.Slot} is not below vnvdimm_slots {slotCount}");

        return new VnvdimmConfig(devices, windowBase ?? map?.DefaultWindowBase ?? d.Base, mailbox, port, irq,
            Math.Min(slotCount, MaxDevices), persistence, map, windowBase is not null);
    }

    // xl reads these with xlu_cfg_get_long: a plain integer (MiB), decimal or 0x hex, no size suffix.
    private static ulong Mebibytes(string key, XlValue value)
    {
        string text = (value.Scalar ?? throw new UserErrorException($"{key} (line {value.Line}) must be a single value, not a list")).Trim();
        bool hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        bool plain = hex ? text.Length > 2 && text.Skip(2).All(char.IsAsciiHexDigit) : text.Length > 0 && text.All(char.IsAsciiDigit);
        if (!plain || !SizeParser.TryParse(text, out ulong v))
            throw new UserErrorException($"{key} '{text}' is not a whole number of MiB (xl.cfg(5))");
        return v;
    }

    private static ulong Scalar(string key, XlValue value) =>
        value.Scalar is null
            ? throw new UserErrorException($"{key} (line {value.Line}) must be a single value, not a list")
            : value.Appended
                // As libxlutil's xlu_cfg_get_long: a number cannot be built with +=.
                ? throw new UserErrorException($"{key} (line {value.Line}) is a number; xl does not allow += with numbers")
                : SizeParser.Parse(value.Scalar, key);
}
