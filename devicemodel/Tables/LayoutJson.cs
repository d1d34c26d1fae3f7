using System.Text.Json;
using XenVnvdimm.DeviceModel.Layout;

namespace XenVnvdimm.DeviceModel.Tables;

/// <summary>
/// Writes layout.json: what the other tools (demo, qemu platform, tests) need of a layout, and the
/// <see cref="LayoutRecord"/> header (version, guest name, config path and settings digest).
/// </summary>
internal static class LayoutJson
{
    public static byte[] Write(GuestLayout layout, LayoutRecord record)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("version", LayoutRecord.Version);
            if (record.Name is null) w.WriteNull("name"); else w.WriteString("name", record.Name);
            w.WriteString("config", record.ConfigPath);
            w.WriteString("config_digest", record.Digest);
            w.WriteString("mailbox_gpa", Hex(layout.MailboxGpa));
            w.WriteNumber("doorbell_port", layout.DoorbellPort);
            if (layout.EventIrq is uint irq)
                w.WriteNumber("event_irq", irq);
            else
                w.WriteNull("event_irq");
            w.WriteNumber("slots", layout.SlotCount);
            w.WriteString("window_base", Hex(layout.WindowBase));
            w.WriteStartArray("devices");
            foreach (var d in layout.Devices)
            {
                w.WriteStartObject();
                w.WriteNumber("slot", d.Slot);
                w.WriteNumber("handle", d.Handle);
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

    private static string Hex(ulong v) => $"0x{v:x}";
}
