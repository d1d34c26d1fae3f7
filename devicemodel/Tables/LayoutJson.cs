using System.Globalization;
using System.Text.Json;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Layout;

namespace XenVnvdimm.DeviceModel.Tables;

/// <summary>
/// layout.json: the <see cref="LayoutRecord"/> header (version, platform, guest name, config path and
/// settings digest) and the whole layout the tables beside it were built from, which <c>run --layout</c>
/// loads instead of planning again.
/// </summary>
internal static class LayoutJson
{
    public static byte[] Write(GuestLayout layout, LayoutRecord record, GuestPlatform platform)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("version", LayoutRecord.Version);
            if (record.Name is null) w.WriteNull("name"); else w.WriteString("name", record.Name);
            w.WriteString("config", record.ConfigPath);
            w.WriteString("config_digest", record.Digest);
            w.WriteString("platform", PlatformName(platform));
            w.WriteString("mailbox_gpa", Hex(layout.MailboxGpa));
            w.WriteNumber("doorbell_port", layout.DoorbellPort);
            if (layout.EventIrq is uint irq)
                w.WriteNumber("event_irq", irq);
            else
                w.WriteNull("event_irq");
            w.WriteNumber("slots", layout.SlotCount);
            w.WriteString("window_base", Hex(layout.WindowBase));
            w.WriteBoolean("base_given", layout.BaseGiven);
            w.WriteString("persistence", PersistenceName(layout.Persistence));
            if (layout.MemoryMap is { } map)
            {
                w.WriteStartObject("memory_map");
                w.WriteNumber("memory_mib", map.MemoryMiB);
                w.WriteNumber("maxmem_mib", map.MaxMemMiB);
                if (map.MmioHoleGiven) w.WriteNumber("mmio_hole_mib", map.MmioHoleMiB); else w.WriteNull("mmio_hole_mib");
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("memory_map");
            }
            w.WriteStartArray("devices");
            foreach (var d in layout.Devices)
            {
                w.WriteStartObject();
                w.WriteNumber("slot", d.Slot);
                w.WriteNumber("handle", d.Handle);
                w.WriteNumber("spa_index", d.SpaIndex);
                w.WriteNumber("dcr_index", d.DcrIndex);
                w.WriteString("gpa", Hex(d.Gpa));
                w.WriteNumber("size", d.Size);
                w.WriteString("backend", d.Backend);
                w.WriteNumber("label_size", d.LabelSize);
                if (d.LabelFile is null) w.WriteNull("label"); else w.WriteString("label", d.LabelFile);
                w.WriteString("serial", $"0x{d.Serial:x8}");
                w.WriteNumber("node", d.Node);
                w.WriteBoolean("unarmed", d.Unarmed);
                w.WriteNumber("align", d.Align);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    /// <summary>
    /// The layout recorded in <paramref name="root"/>, for <paramref name="platform"/>. Throws
    /// <see cref="FormatException"/> naming the first field that is missing or out of range.
    /// </summary>
    public static GuestLayout Read(JsonElement root, GuestPlatform platform)
    {
        string recorded = Str(root, "platform");
        if (recorded != PlatformName(platform))
            throw new FormatException($"it was written for --platform {recorded}, not {PlatformName(platform)}");
        var devices = new List<PlannedDevice>();
        foreach (var d in Get(root, "devices", JsonValueKind.Array).EnumerateArray())
        {
            devices.Add(new PlannedDevice(
                Slot: checked((int)U64(d, "slot")),
                Handle: checked((uint)U64(d, "handle")),
                SpaIndex: checked((ushort)U64(d, "spa_index")),
                DcrIndex: checked((ushort)U64(d, "dcr_index")),
                Gpa: Hex(d, "gpa"),
                Size: U64(d, "size"),
                Backend: Str(d, "backend"),
                LabelSize: U64(d, "label_size"),
                LabelFile: d.TryGetProperty("label", out var l) && l.ValueKind == JsonValueKind.Null ? null : Str(d, "label"),
                Serial: checked((uint)Hex(d, "serial")),
                Node: checked((uint)U64(d, "node")),
                Unarmed: Get(d, "unarmed", JsonValueKind.True, JsonValueKind.False).GetBoolean(),
                Align: U64(d, "align")));
        }
        var irq = Get(root, "event_irq", JsonValueKind.Number, JsonValueKind.Null);
        var mapJson = Get(root, "memory_map", JsonValueKind.Object, JsonValueKind.Null);
        GuestMemoryMap? map = null;
        if (mapJson.ValueKind == JsonValueKind.Object)
        {
            var hole = Get(mapJson, "mmio_hole_mib", JsonValueKind.Number, JsonValueKind.Null);
            map = GuestMemoryMap.Xen(U64(mapJson, "memory_mib"), U64(mapJson, "maxmem_mib"),
                hole.ValueKind == JsonValueKind.Null ? null : hole.GetUInt64());
        }
        string persistence = Str(root, "persistence");
        return new GuestLayout(
            devices,
            SlotCount: checked((int)U64(root, "slots")),
            WindowBase: Hex(root, "window_base"),
            MailboxGpa: Hex(root, "mailbox_gpa"),
            DoorbellPort: checked((ushort)U64(root, "doorbell_port")),
            EventIrq: irq.ValueKind == JsonValueKind.Null ? null : irq.GetUInt32(),
            Persistence: persistence switch
            {
                "cpu" => PersistenceDomain.Cpu,
                "mem-ctrl" => PersistenceDomain.MemoryController,
                "none" => PersistenceDomain.None,
                _ => throw new FormatException($"'persistence' {persistence} is unknown"),
            },
            MemoryMap: map,
            BaseGiven: Get(root, "base_given", JsonValueKind.True, JsonValueKind.False).GetBoolean());
    }

    private static string PlatformName(GuestPlatform p) => p == GuestPlatform.Qemu ? "qemu" : "xen";

    // The config's own words for it (vnvdimm_persistence).
    private static string PersistenceName(PersistenceDomain p) => p switch
    {
        PersistenceDomain.Cpu => "cpu",
        PersistenceDomain.MemoryController => "mem-ctrl",
        _ => "none",
    };

    private static JsonElement Get(JsonElement e, string name, params JsonValueKind[] kinds) =>
        e.TryGetProperty(name, out var v) && kinds.Contains(v.ValueKind) ? v
            : throw new FormatException($"'{name}' is missing or not a {string.Join(" or ", kinds).ToLowerInvariant()}");

    private static ulong U64(JsonElement e, string name) =>
        Get(e, name, JsonValueKind.Number).TryGetUInt64(out ulong v) ? v : throw new FormatException($"'{name}' is not a whole number");

    private static string Str(JsonElement e, string name) => Get(e, name, JsonValueKind.String).GetString()!;

    private static ulong Hex(JsonElement e, string name) =>
        Str(e, name) is { } t && t.StartsWith("0x", StringComparison.Ordinal)
            && ulong.TryParse(t.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong v)
            ? v : throw new FormatException($"'{name}' is not a 0x hex number");

    private static string Hex(ulong v) => $"0x{v:x}";
}
