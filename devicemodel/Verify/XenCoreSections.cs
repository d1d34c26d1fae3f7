using System.Buffers.Binary;
using ELFSharp.ELF;

namespace XenVnvdimm.DeviceModel.Verify;

/// <summary>
/// The memory of an <c>xl dump-core</c> file (Xen's docs/misc/dump-core-format.txt): no program
/// headers; section <c>.xen_pages</c> holds the dumped pages back to back, 4 KiB each, and page i
/// belongs to the guest frame named by entry i of <c>.xen_pfn</c> (u64 pfn, auto-translated guests
/// such as HVM) or <c>.xen_p2m</c> (u64 pfn, u64 gmfn: PV guests). Frames xl could not map (for
/// example p2m_mmio_direct pmem on upstream Xen) are simply absent.
/// </summary>
internal static class XenCoreSections
{
    private const ulong PageSize = 4096;

    /// <summary>The (gpa, file offset, size) runs of <paramref name="elf"/>'s dumped pages, coalesced, by gpa.</summary>
    public static List<(ulong Gpa, ulong Offset, ulong Size)> Segments(string path, ELF<ulong> elf)
    {
        var pages = elf.Sections.FirstOrDefault(s => s.Name == ".xen_pages");
        var pfn = elf.Sections.FirstOrDefault(s => s.Name == ".xen_pfn");
        var p2m = elf.Sections.FirstOrDefault(s => s.Name == ".xen_p2m");
        if (pages is null || (pfn is null && p2m is null))
            return [];
        int entry = pfn is not null ? 8 : 16;
        var table = (pfn ?? p2m)!;
        ulong count = table.Size / (ulong)entry;
        if (pages.Size / PageSize < count)
            throw new UserErrorException($"core '{path}': {table.Name} names {count} pages but .xen_pages holds {pages.Size / PageSize}");

        var runs = new List<(ulong Gpa, ulong Offset, ulong Size)>();
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        f.Position = (long)table.Offset;
        byte[] e = new byte[entry];
        for (ulong i = 0; i < count; i++)
        {
            f.ReadExactly(e);
            ulong frame = BinaryPrimitives.ReadUInt64LittleEndian(e);
            if (frame == ulong.MaxValue || frame > (ulong.MaxValue >> 12))
                continue; // an unused entry (INVALID_PFN)
            ulong gpa = frame << 12, offset = pages.Offset + i * PageSize;
            if (runs.Count > 0 && runs[^1].Gpa + runs[^1].Size == gpa && runs[^1].Offset + runs[^1].Size == offset)
                runs[^1] = (runs[^1].Gpa, runs[^1].Offset, runs[^1].Size + PageSize);
            else
                runs.Add((gpa, offset, PageSize));
        }
        runs.Sort((a, b) => a.Gpa.CompareTo(b.Gpa));
        return runs;
    }
}
