using System.Text;
using XenVnvdimm.Acpi.Nfit;

namespace XenVnvdimm.DeviceModel.Tables;

/// <summary>Human-readable dump of an NFIT (ours, QEMU's or a host's).</summary>
internal static class NfitDecoder
{
    public static string Describe(NfitTable table)
    {
        var sb = new StringBuilder();
        foreach (var s in table.Structures)
        {
            switch (s)
            {
                case NfitSpaRange r:
                    sb.AppendLine($"SPA range {r.RangeIndex}: base 0x{r.Base:x} length 0x{r.Length:x} ({(r.IsPersistentMemory ? "persistent memory" : r.TypeGuid.ToString())}) flags 0x{r.Flags:x} proximity {r.ProximityDomain} attributes 0x{r.MemoryAttributes:x}");
                    break;
                case NfitMemoryDeviceMap m:
                    sb.AppendLine($"Memory device: handle 0x{m.DeviceHandle:x} spa {m.SpaRangeIndex} dcr {m.ControlRegionIndex} size 0x{m.RegionSize:x} offset 0x{m.RegionOffset:x} dpa 0x{m.DpaBase:x} ways {m.InterleaveWays} flags 0x{m.Flags:x}{((m.Flags & NfitMemoryDeviceMap.FlagNotArmed) != 0 ? " (not armed)" : "")}");
                    break;
                case NfitControlRegion c:
                    sb.AppendLine($"Control region {c.ControlRegionIndex}: vendor 0x{c.VendorId:x4} device 0x{c.DeviceId:x4} revision 0x{c.RevisionId:x} serial 0x{c.SerialNumber:x8} format 0x{c.FormatInterfaceCode:x4} windows {c.WindowCount}");
                    break;
                case NfitPlatformCapabilities p:
                    sb.AppendLine($"Platform capabilities: highest valid bit {p.HighestValidCapability} capabilities 0x{p.Capabilities:x}");
                    break;
                case NfitFlushHint f:
                    sb.AppendLine($"Flush hint: handle 0x{f.DeviceHandle:x} addresses {string.Join(" ", f.Addresses.Select(a => $"0x{a:x}"))}");
                    break;
                default:
                    sb.AppendLine($"Structure type {s.Type}: {s.Length} bytes (not decoded)");
                    break;
            }
        }
        return sb.ToString();
    }
}
