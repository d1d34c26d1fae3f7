using ELFSharp.ELF;
using ELFSharp.ELF.Segments;

namespace XenVnvdimm.DeviceModel.Verify;

/// <summary>
/// A guest memory dump in ELF core format: QEMU's <c>dump-guest-memory</c> (PT_LOAD segments map
/// guest-physical addresses, p_paddr, to file offsets) or <c>xl dump-core</c> (see
/// <see cref="XenCoreSections"/>). ELFSharp reads the headers; the bytes are streamed from the file
/// so cores of any size can be checked.
/// </summary>
internal sealed class GuestCore : IDisposable
{
    private readonly List<(ulong Gpa, ulong Offset, ulong Size)> _segments;
    private readonly FileStream _file;

    private GuestCore(string path, List<(ulong, ulong, ulong)> segments)
    {
        _segments = segments;
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
    }

    public static GuestCore Open(string path)
    {
        if (!File.Exists(path))
            throw new UserErrorException($"core '{path}' does not exist");
        if (!ELFReader.TryLoad<ulong>(path, out var elf))
            throw new UserErrorException($"core '{path}' is not a 64-bit ELF file");
        using (elf)
        {
            if (elf.Type != FileType.Core)
                throw new UserErrorException($"'{path}' is an ELF file of type {elf.Type}, not a core");
            var segments = elf.Segments
                .Where(s => s.Type == SegmentType.Load && s.FileSize > 0)
                .Select(s => (s.PhysicalAddress, (ulong)s.Offset, (ulong)s.FileSize))
                .OrderBy(s => s.PhysicalAddress)
                .ToList();
            // xl dump-core writes sections, not program headers (Xen's docs/misc/dump-core-format.txt)
            if (segments.Count == 0)
                segments = XenCoreSections.Segments(path, elf);
            return new GuestCore(path, segments);
        }
    }

    /// <summary>Reads guest-physical memory; false when part of the range is not in the core.</summary>
    public bool TryRead(ulong gpa, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            var seg = _segments.FirstOrDefault(s => gpa >= s.Gpa && gpa < s.Gpa + s.Size);
            if (seg.Size == 0)
                return false;
            int n = (int)Math.Min((ulong)destination.Length, seg.Gpa + seg.Size - gpa);
            _file.Position = (long)(seg.Offset + (gpa - seg.Gpa));
            _file.ReadExactly(destination[..n]);
            destination = destination[n..];
            gpa += (ulong)n;
        }
        return true;
    }

    public void Dispose() => _file.Dispose();
}
