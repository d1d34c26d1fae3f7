namespace XenVnvdimm.DeviceModel.Config;

/// <summary>
/// One entry of <c>vnvdimms=[...]</c> (also the argument of a hot-add command):
/// <c>backend=PATH, size=S, label_size=S, label=PATH, slot=N, node=N, unarmed=0|1, serial=N, align=2M|1G</c>.
/// </summary>
/// <param name="Backend">Backing store on dom0 (file, /dev/pmemX, /dev/daxX.Y).</param>
/// <param name="Size">Guest-visible size; null means the whole backend.</param>
/// <param name="LabelSize">Label area size, 0 for none.</param>
/// <param name="Label">Label file on dom0; null means derived from the backend.</param>
/// <param name="Slot">Requested slot; null means the lowest free one.</param>
/// <param name="Node">Proximity domain.</param>
/// <param name="Unarmed">Whether the guest sees the device as not armed (read-only).</param>
/// <param name="Serial">Requested serial; null means derived from the backend path.</param>
/// <param name="Align">Guest-physical alignment and size granularity.</param>
/// <param name="Name">How errors name this entry, e.g. "vnvdimms[1]".</param>
public sealed record VnvdimmDeviceSpec(
    string Backend,
    ulong? Size,
    ulong LabelSize,
    string? Label,
    int? Slot,
    uint Node,
    bool Unarmed,
    uint? Serial,
    ulong Align,
    string Name)
{
    /// <summary>Default label area size.</summary>
    public const ulong DefaultLabelSize = 128 * 1024;

    /// <summary>Smallest non-zero label area Linux accepts.</summary>
    public const ulong MinLabelSize = 128 * 1024;

    /// <summary>
    /// Largest label area: 1 MiB, 8,192 labels of 128 bytes (Linux needs one per namespace). The guest
    /// reads all of it through the 4 KiB DSM mailbox at probe, and the companion holds it in memory.
    /// </summary>
    public const ulong MaxLabelSize = 1UL << 20;

    /// <summary>Default alignment (2 MiB: fsdax/devdax with huge pages).</summary>
    public const ulong DefaultAlign = 2UL << 20;

    /// <summary>Alignments a device may ask for.</summary>
    public static readonly ulong[] AllowedAligns = [4096, 2UL << 20, 1UL << 30];

    private static readonly string[] s_keys = ["backend", "size", "label_size", "label", "slot", "node", "unarmed", "serial", "align"];

    /// <summary>Parses a spec string; <paramref name="name"/> names the entry in errors.</summary>
    public static VnvdimmDeviceSpec Parse(string spec, string name)
    {
        var kv = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in spec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0)
                throw new UserErrorException($"{name}: '{part}' is not KEY=VALUE");
            string key = part[..eq].Trim(), value = part[(eq + 1)..].Trim();
            if (!s_keys.Contains(key))
                throw new UserErrorException($"{name}: unknown key '{key}' (known: {string.Join(", ", s_keys)})");
            if (!kv.TryAdd(key, value))
                throw new UserErrorException($"{name}: key '{key}' given twice");
        }

        if (!kv.TryGetValue("backend", out string? backend) || backend.Length == 0)
            throw new UserErrorException($"{name}: missing required key 'backend'");

        ulong labelSize = kv.TryGetValue("label_size", out var ls) ? SizeParser.Parse(ls, $"{name}: label_size") : DefaultLabelSize;
        if (labelSize != 0 && labelSize < MinLabelSize)
            throw new UserErrorException($"{name}: label_size {ls} is below the 128K minimum (use 0 for no labels)");
        if (labelSize > MaxLabelSize)
            throw new UserErrorException($"{name}: label_size {ls} is above the {SizeParser.Format(MaxLabelSize)} maximum");
        if (labelSize % 4096 != 0)
            throw new UserErrorException($"{name}: label_size {ls} is not a multiple of 4K");

        ulong align = kv.TryGetValue("align", out var al) ? SizeParser.Parse(al, $"{name}: align") : DefaultAlign;
        if (!AllowedAligns.Contains(align))
            throw new UserErrorException($"{name}: align {al} must be 4K, 2M or 1G");

        ulong? size = kv.TryGetValue("size", out var sz) ? SizeParser.Parse(sz, $"{name}: size") : null;
        if (size == 0)
            throw new UserErrorException($"{name}: size must not be 0");

        return new VnvdimmDeviceSpec(
            backend,
            size,
            labelSize,
            kv.TryGetValue("label", out var label) && label.Length > 0 ? label : null,
            kv.TryGetValue("slot", out var slot) ? (int)Integer(slot, name, "slot", 63) : null,
            kv.TryGetValue("node", out var node) ? (uint)Integer(node, name, "node", uint.MaxValue) : 0,
            kv.TryGetValue("unarmed", out var un) && Integer(un, name, "unarmed", 1) == 1,
            kv.TryGetValue("serial", out var serial) ? (uint)Integer(serial, name, "serial", uint.MaxValue) : null,
            align,
            name);
    }

    private static ulong Integer(string text, string name, string key, ulong max)
    {
        if (!SizeParser.TryParse(text, out ulong v) || !char.IsAsciiDigit(text.Trim()[^1]) && !text.Trim().StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            throw new UserErrorException($"{name}: {key} '{text}' is not an integer");
        if (v > max)
            throw new UserErrorException($"{name}: {key} {text} is out of range (0..{max})");
        return v;
    }
}
