using System.Buffers.Binary;
using System.Text;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// <c>verify --core</c> on the layout <c>xl dump-core</c> writes (Xen's docs/misc/dump-core-format.txt:
/// an ET_CORE ELF with section headers and no program headers; <c>.xen_pages</c> holds 4 KiB pages,
/// page i belonging to entry i of <c>.xen_pfn</c> for HVM guests or of <c>.xen_p2m</c> {pfn, gmfn}
/// for PV guests). The core is written here from that description, pages deliberately out of order.
/// </summary>
public class XenDumpCoreVerifyTests
{
    private const int Page = 4096;

    [Theory]
    [InlineData(".xen_pfn")]
    [InlineData(".xen_p2m")]
    public void XlDumpCoreLayoutIsVerifiedAndAChangedByteIsNamed(string table)
    {
        using var d = new TempDir();
        string backing = d.File("a.img");
        var bytes = new byte[2 << 20];
        new Random(7).NextBytes(bytes);
        File.WriteAllBytes(backing, bytes);
        File.WriteAllText(d.File("vm.cfg"), $"vnvdimms = [ 'backend={backing}, label_size=0' ]\n");

        // The vNVDIMM at 4 GiB (frames 0x100000..0x1001ff) in reverse order, plus a RAM page and an unused entry.
        ulong first = 0x100000;
        var frames = new List<ulong> { 0x42 };
        var pages = new List<byte[]> { new byte[Page] };
        for (int i = bytes.Length / Page - 1; i >= 0; i--)
        {
            frames.Add(first + (ulong)i);
            pages.Add(bytes.AsSpan(i * Page, Page).ToArray());
        }
        frames.Add(ulong.MaxValue);
        pages.Add(new byte[Page]);
        string core = d.File("guest.core");
        File.WriteAllBytes(core, DumpCore(table, frames, pages));

        var ok = ProcessRunner.XenVnvdimm("verify", "--core", core, "--config", d.File("vm.cfg"), "--platform", "xen");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains($"slot 0 {backing}: 512 pages at GPA 0x100000000 match", ok.Stdout);

        using (var f = new FileStream(backing, FileMode.Open, FileAccess.ReadWrite))
        {
            f.Position = 0x1F0007;
            int old = f.ReadByte();
            f.Position = 0x1F0007;
            f.WriteByte((byte)(old ^ 0x01));
        }
        var bad = ProcessRunner.XenVnvdimm("verify", "--core", core, "--config", d.File("vm.cfg"), "--platform", "xen");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains($"slot 0 {backing}: guest page at GPA 0x1001f0000 (backend offset 0x1f0000, byte 0x1f0007) differs from the backing file", bad.Stderr);

        // A core missing one of the frames says which range is absent.
        int drop = frames.IndexOf(first + 3);
        frames.RemoveAt(drop);
        pages.RemoveAt(drop);
        File.WriteAllBytes(core, DumpCore(table, frames, pages));
        var missing = ProcessRunner.XenVnvdimm("verify", "--core", core, "--config", d.File("vm.cfg"), "--platform", "xen");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("is not in the core", missing.Stderr);
    }

    /// <summary>ELF64 little-endian ET_CORE: header, then .shstrtab, .xen_pfn|.xen_p2m, page-aligned .xen_pages, section headers.</summary>
    private static byte[] DumpCore(string table, IReadOnlyList<ulong> frames, IReadOnlyList<byte[]> pages)
    {
        byte[] names = Encoding.ASCII.GetBytes($"\0.shstrtab\0{table}\0.xen_pages\0");
        int nameTable = 1, nameMap = 11, namePages = 11 + table.Length + 1;
        int entry = table == ".xen_pfn" ? 8 : 16;
        var map = new byte[frames.Count * entry];
        for (int i = 0; i < frames.Count; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(map.AsSpan(i * entry), frames[i]);
            if (entry == 16)
                BinaryPrimitives.WriteUInt64LittleEndian(map.AsSpan(i * entry + 8), 0xdead0000 + (ulong)i); // gmfn
        }
        long namesAt = 64, mapAt = namesAt + names.Length;
        long pagesAt = (mapAt + map.Length + Page - 1) / Page * Page;
        long shAt = pagesAt + (long)pages.Count * Page;
        var elf = new byte[shAt + 4 * 64];
        var h = elf.AsSpan();
        "\x7F"u8.CopyTo(h); "ELF"u8.CopyTo(h[1..]);
        h[4] = 2; h[5] = 1; h[6] = 1;                                 // ELFCLASS64, little-endian, EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(h[16..], 4);          // e_type ET_CORE
        BinaryPrimitives.WriteUInt16LittleEndian(h[18..], 62);         // e_machine EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);          // e_version
        BinaryPrimitives.WriteUInt64LittleEndian(h[40..], (ulong)shAt);// e_shoff
        BinaryPrimitives.WriteUInt16LittleEndian(h[52..], 64);         // e_ehsize
        BinaryPrimitives.WriteUInt16LittleEndian(h[58..], 64);         // e_shentsize
        BinaryPrimitives.WriteUInt16LittleEndian(h[60..], 4);          // e_shnum
        BinaryPrimitives.WriteUInt16LittleEndian(h[62..], 1);          // e_shstrndx
        names.CopyTo(elf, namesAt);
        map.CopyTo(elf, mapAt);
        for (int i = 0; i < pages.Count; i++)
            pages[i].CopyTo(elf, pagesAt + (long)i * Page);
        void Section(int index, int name, uint type, long offset, long size, ulong align, ulong entsize)
        {
            var s = elf.AsSpan((int)(shAt + index * 64));
            BinaryPrimitives.WriteUInt32LittleEndian(s, (uint)name);
            BinaryPrimitives.WriteUInt32LittleEndian(s[4..], type);
            BinaryPrimitives.WriteUInt64LittleEndian(s[24..], (ulong)offset);
            BinaryPrimitives.WriteUInt64LittleEndian(s[32..], (ulong)size);
            BinaryPrimitives.WriteUInt64LittleEndian(s[48..], align);
            BinaryPrimitives.WriteUInt64LittleEndian(s[56..], entsize);
        }
        Section(1, nameTable, 3, namesAt, names.Length, 1, 0);                       // SHT_STRTAB
        Section(2, nameMap, 1, mapAt, map.Length, 8, (ulong)entry);                  // SHT_PROGBITS
        Section(3, namePages, 1, pagesAt, (long)pages.Count * Page, Page, Page);
        return elf;
    }
}
