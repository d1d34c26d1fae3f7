using System.Buffers.Binary;
using System.Text;

namespace XenVnvdimm.DeviceModel.Backing.InfoBlock;

/// <summary>
/// Parses and validates a namespace info block as drivers/nvdimm/pfn_devs.c <c>nd_pfn_validate</c>
/// does, and refuses what the kernel would only warn about but would corrupt a guest mapping.
/// </summary>
public static class PfnInfoBlockParser
{
    // struct nd_pfn_sb field offsets (drivers/nvdimm/pfn.h).
    private const int SignatureOffset = 0;
    private const int SignatureLength = 16;
    private const int UuidOffset = 16;
    private const int ParentUuidOffset = 32;
    private const int FlagsOffset = 48;
    private const int VersionMajorOffset = 52;
    private const int VersionMinorOffset = 54;
    private const int DataOffsetOffset = 56;
    private const int NpfnsOffset = 64;
    private const int ModeOffset = 72;
    private const int StartPadOffset = 76;
    private const int EndTruncOffset = 80;
    private const int AlignOffset = 84;
    private const int PageSizeOffset = 88;
    private const int PageStructSizeOffset = 92;
    private const int PaddingOffset = 94;
    private const int ChecksumOffset = 4088;

    /// <summary>Highest minor version whose layout this parser knows (page_size/page_struct_size).</summary>
    public const ushort KnownMinorVersion = 4;

    private const uint PFN_MODE_RAM = 1;
    private const uint PFN_MODE_PMEM = 2;
    private const ulong PageSize4K = 4096;

    private static readonly byte[] s_pfnSignature = Encoding.ASCII.GetBytes("NVDIMM_PFN_INFO\0");
    private static readonly byte[] s_daxSignature = Encoding.ASCII.GetBytes("NVDIMM_DAX_INFO\0");
    private static readonly byte[] s_bttSignature = Encoding.ASCII.GetBytes("BTT_ARENA_INFO\0");

    /// <summary>True when <paramref name="block"/> starts with either pfn/dax signature.</summary>
    public static bool HasSignature(ReadOnlySpan<byte> block)
        => block.Length >= SignatureLength
        && (block[..SignatureLength].SequenceEqual(s_pfnSignature) || block[..SignatureLength].SequenceEqual(s_daxSignature));

    /// <summary>
    /// Validates the 4 KiB info block read from namespace offset 4096.
    /// </summary>
    /// <param name="block">The 4096 bytes of the info block.</param>
    /// <param name="namespaceSize">The namespace size, when known, to bound dataoff and end_trunc.</param>
    /// <exception cref="InfoBlockFormatException">Missing, corrupt, unknown version, or unmappable layout.</exception>
    public static PfnInfoBlock Parse(ReadOnlySpan<byte> block, ulong? namespaceSize = null)
    {
        if (block.Length < PfnInfoBlock.Size)
            throw new InfoBlockFormatException($"info block is {block.Length} bytes, expected {PfnInfoBlock.Size}");
        block = block[..PfnInfoBlock.Size];

        var signature = block.Slice(SignatureOffset, SignatureLength);
        InfoBlockKind kind;
        if (signature.SequenceEqual(s_pfnSignature))
            kind = InfoBlockKind.FsDax;
        else if (signature.SequenceEqual(s_daxSignature))
            kind = InfoBlockKind.DevDax;
        else if (signature[..s_bttSignature.Length].SequenceEqual(s_bttSignature))
            throw new InfoBlockFormatException("namespace is in sector (BTT) mode: its blocks are remapped and cannot be mapped into a guest");
        else
            throw new InfoBlockFormatException("no NVDIMM_PFN_INFO or NVDIMM_DAX_INFO signature at namespace offset 4096");

        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(block[ChecksumOffset..]);
        Span<byte> copy = stackalloc byte[PfnInfoBlock.Size];
        block.CopyTo(copy);
        copy.Slice(ChecksumOffset, 8).Clear();
        ulong computed = Fletcher64.Compute(copy);
        if (stored != computed)
            throw new InfoBlockFormatException($"info block checksum mismatch: stored 0x{stored:x}, computed 0x{computed:x}");

        ushort major = BinaryPrimitives.ReadUInt16LittleEndian(block[VersionMajorOffset..]);
        ushort minor = BinaryPrimitives.ReadUInt16LittleEndian(block[VersionMinorOffset..]);
        if (major != 1 || minor > KnownMinorVersion)
            throw new InfoBlockFormatException($"unknown info block version {major}.{minor} (this program knows 1.0–1.{KnownMinorVersion})");

        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(block[FlagsOffset..]);
        ulong dataOffset = BinaryPrimitives.ReadUInt64LittleEndian(block[DataOffsetOffset..]);
        ulong npfns = BinaryPrimitives.ReadUInt64LittleEndian(block[NpfnsOffset..]);
        uint mode = BinaryPrimitives.ReadUInt32LittleEndian(block[ModeOffset..]);

        // Fields added by later minor versions read as the kernel's defaults on older blocks.
        uint startPad = minor >= 1 ? BinaryPrimitives.ReadUInt32LittleEndian(block[StartPadOffset..]) : 0;
        uint endTrunc = minor >= 1 ? BinaryPrimitives.ReadUInt32LittleEndian(block[EndTruncOffset..]) : 0;
        ulong align = minor >= 2 ? BinaryPrimitives.ReadUInt32LittleEndian(block[AlignOffset..]) : 0;
        uint pageSize = minor >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(block[PageSizeOffset..]) : (uint)PageSize4K;
        ushort pageStructSize = minor >= 4 ? BinaryPrimitives.ReadUInt16LittleEndian(block[PageStructSizeOffset..]) : (ushort)64;

        if (minor >= 3)
        {
            // Minor 3 promised zero padding and flags; anything else is a layout we do not know.
            if (flags != 0)
                throw new InfoBlockFormatException($"info block flags 0x{flags:x} are not zero");
            int paddingStart = minor >= 4 ? PaddingOffset : PageSizeOffset;
            if (block[paddingStart..ChecksumOffset].ContainsAnyExcept((byte)0))
                throw new InfoBlockFormatException("info block padding is not zero");
        }

        if (mode is not (PFN_MODE_RAM or PFN_MODE_PMEM))
            throw new InfoBlockFormatException($"info block memmap mode {mode} is neither RAM (1) nor PMEM (2)");
        if (startPad != 0)
            throw new InfoBlockFormatException($"info block start_pad is 0x{startPad:x}: padded (pre-5.x section-aligned) namespaces are refused");
        if (pageSize != PageSize4K)
            throw new InfoBlockFormatException($"info block page size {pageSize} is not 4096");
        if (dataOffset < PfnInfoBlock.Offset + PfnInfoBlock.Size || dataOffset % PageSize4K != 0)
            throw new InfoBlockFormatException($"info block dataoff 0x{dataOffset:x} is below 8 KiB or not 4 KiB aligned");
        if (align == 0)
            align = 1UL << (63 - System.Numerics.BitOperations.LeadingZeroCount(dataOffset)); // the kernel's 1 << ilog2(dataoff)
        if (!System.Numerics.BitOperations.IsPow2(align) || align < PageSize4K)
            throw new InfoBlockFormatException($"info block alignment 0x{align:x} is not a power of two ≥ 4 KiB");
        if (namespaceSize is { } nsSize && dataOffset + startPad + endTrunc >= nsSize)
            throw new InfoBlockFormatException($"info block dataoff 0x{dataOffset:x} + end_trunc 0x{endTrunc:x} leaves no data in a 0x{nsSize:x}-byte namespace");

        return new PfnInfoBlock(kind,
            new Guid(block.Slice(UuidOffset, 16), bigEndian: true),
            new Guid(block.Slice(ParentUuidOffset, 16), bigEndian: true),
            major, minor, dataOffset, npfns, mode, startPad, endTrunc, align, pageSize, pageStructSize);
    }
}
