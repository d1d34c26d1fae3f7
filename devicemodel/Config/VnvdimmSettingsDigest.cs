using System.IO.Hashing;
using System.Text;

namespace XenVnvdimm.DeviceModel.Config;

/// <summary>
/// A digest of the xl settings a guest's vNVDIMM layout is computed from: every vNVDIMM key and the
/// guest memory map (memory, maxmem, mmio_hole). Equal digests mean the same tables and frames.
/// </summary>
public static class VnvdimmSettingsDigest
{
    /// <summary>The keys covered, in digest order.</summary>
    public static readonly string[] Keys =
    [
        "vnvdimms", "vnvdimm_base", "dsm_mailbox", "dsm_port", "event_irq", "vnvdimm_slots",
        "vnvdimm_persistence", "memory", "maxmem", "mmio_hole",
    ];

    /// <summary>"xxh128:HEX" over each key's value as parsed (absent keys included as absent).</summary>
    public static string Of(XlConfigFile file)
    {
        var sb = new StringBuilder();
        foreach (string key in Keys)
            sb.Append(key).Append(' ').Append(Render(file.Values.GetValueOrDefault(key))).Append('\n');
        return "xxh128:" + Convert.ToHexStringLower(XxHash128.Hash(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    // Strings length-prefixed so that no two different values render alike.
    private static string Render(XlValue? v) =>
        v is null ? "-"
        : v.Scalar is not null ? $"s{Encoding.UTF8.GetByteCount(v.Scalar)}:{v.Scalar}"
        : $"[{v.Items!.Count}:" + string.Concat(v.Items!.Select(Render)) + "]";
}
