namespace XenVnvdimm.DeviceModel.Layout;

/// <summary>
/// A Xen HVM guest's physical memory map as libxl and hvmloader of Xen 4.17 build it from the xl config:
/// RAM below the MMIO hole, RAM above 4 GiB, and the ranges inside the hole that belong to Xen,
/// hvmloader and QEMU. The vNVDIMM window and the DSM mailbox are checked against it.
/// </summary>
/// <remarks>
/// Sources (Xen 4.17): tools/xl/xl_parse.c (memory → target, maxmem → max, max defaults to target;
/// mmio_hole in MiB, 256..3840), tools/libs/light/libxl_create.c libxl__domain_build_info_setdefault
/// (max defaults to 32 MiB), tools/libs/light/libxl_dom.c libxl__build_hvm (mmio_start = 4 GiB − hole,
/// hole default HVM_BELOW_4G_MMIO_LENGTH; lowmem_end = min(mem, mmio_start); highmem_end = 4 GiB +
/// mem − lowmem_end), xen/include/public/hvm/e820.h, tools/include/xenguest.h (special pages),
/// tools/firmware/hvmloader/config.h and pci.c, xen/arch/x86/hvm/hpet.c.
/// libxl builds RAM from maxmem minus the video RAM; the whole of maxmem is counted here, which can
/// only make the RAM look up to the video RAM (8-16 MiB) larger than it is, never smaller.
/// hvmloader relocates low RAM above 4 GiB only for qemu-xen-traditional (libxl_dm.c sets
/// allow-memory-relocate for it alone), so for qemu-xen the layout above is final.
/// </remarks>
public sealed class GuestMemoryMap
{
    private const ulong MiB = 1UL << 20;
    private const ulong FourGiB = 1UL << 32;

    /// <summary>HVM_BELOW_4G_MMIO_START (e820.h): where the hole starts by default.</summary>
    public const ulong DefaultMmioStart = 0xF0000000;

    /// <summary>Default hole, HVM_BELOW_4G_MMIO_LENGTH: 256 MiB.</summary>
    public const ulong DefaultMmioHoleMiB = (FourGiB - DefaultMmioStart) / MiB;

    /// <summary>Largest hole xl accepts (HVM_BELOW_4G_MMIO_START bytes): 3840 MiB.</summary>
    public const ulong MaxMmioHoleMiB = DefaultMmioStart / MiB;

    /// <summary>libxl's max_memkb default when neither memory nor maxmem is given: 32 MiB.</summary>
    public const ulong DefaultMemoryMiB = 32;

    /// <summary>Largest memory/maxmem accepted (MiB): keeps byte arithmetic far from overflow (2^52 bytes).</summary>
    public const ulong MaxMemoryMiB = 1UL << 32;

    /// <summary>hvmloader's RESERVED_MEMBASE: PCI BARs below it, Xen/hvmloader pages from it to 4 GiB.</summary>
    public const ulong ReservedMemBase = 0xFC000000;

    // Fixed ranges of the MMIO hole, low to high.
    private static readonly GuestRange[] s_fixed =
    [
        // hvmloader config.h: ACPI_INFO_PHYSICAL_ADDRESS and ACPI tables (E820 NVS) up to RESERVED_MEMORY_DYNAMIC_START.
        new("hvmloader's ACPI area", 0xFC000000, 0xFC0FFFFF),
        // hvmloader config.h: RESERVED_MEMORY_DYNAMIC_START..END (mem_alloc up, mem_hole_alloc down).
        new("hvmloader's dynamic reserved area", 0xFC100000, 0xFDFFFFFF),
        // hvmloader config.h: GUEST_RESERVED_START..END, reserved for the guest's own use.
        new("hvmloader's guest-reserved range", 0xFE700000, 0xFE7FFFFF),
        // hvmloader.c ioapic_base_address; Xen's vIOAPIC (VIOAPIC_MEM_LENGTH 0x100).
        new("the IOAPIC", 0xFEC00000, 0xFEC00FFF),
        // xen/arch/x86/hvm/hpet.c HPET_BASE_ADDRESS, HPET_MMAP_SIZE 1 KiB.
        new("the HPET", 0xFED00000, 0xFED00FFF),
        // hvmloader config.h ACPI_TIS_HDR_ADDRESS: QEMU's TPM TIS at 0xFED40000, 0x5000 bytes (vTPM guests).
        new("the TPM TIS", 0xFED40000, 0xFED44FFF),
        // hvmloader config.h LAPIC_BASE_ADDRESS; the whole 0xFEExxxxx range is the MSI address window.
        new("the local APIC / MSI window", 0xFEE00000, 0xFEEFFFFF),
        // xenguest.h: X86_HVM_NR_SPECIAL_PAGES (8) pages ending at X86_HVM_END_SPECIAL_REGION (0xff000).
        new("Xen's special pages", 0xFEFF8000, 0xFEFFFFFF),
        // hvmloader e820.c marks everything to 4 GiB reserved; the x86 BIOS flash/reset-vector area.
        new("the BIOS area", 0xFF000000, 0xFFFFFFFF),
    ];

    private readonly bool _holeGiven;

    private GuestMemoryMap(ulong memoryMiB, ulong maxMemMiB, ulong mmioHoleMiB, bool holeGiven)
    {
        MemoryMiB = memoryMiB;
        MaxMemMiB = maxMemMiB;
        MmioHoleMiB = mmioHoleMiB;
        _holeGiven = holeGiven;
        ulong mem = Math.Max(memoryMiB, maxMemMiB) * MiB;
        MmioStart = FourGiB - mmioHoleMiB * MiB;
        LowRamEnd = Math.Min(mem, MmioStart);
        HighRamEnd = mem > MmioStart ? FourGiB + (mem - MmioStart) : 0;

        var ranges = new List<GuestRange> { new("the guest's low RAM", 0, LowRamEnd - 1) };
        // hvmloader/pci.c places BARs from pci_mem_start up to pci_mem_end (RESERVED_MEMBASE); pci_mem_start
        // starts at the hole and is halved while the BARs do not fit, down to the end of low RAM.
        ranges.Add(new("hvmloader's PCI MMIO space (BARs)", LowRamEnd, ReservedMemBase - 1));
        ranges.AddRange(s_fixed);
        if (HighRamEnd != 0)
            ranges.Add(new("the guest's high RAM", FourGiB, HighRamEnd - 1));
        Forbidden = ranges;
    }

    /// <summary>memory= (MiB), or its default.</summary>
    public ulong MemoryMiB { get; }

    /// <summary>maxmem= (MiB), defaulting to memory=.</summary>
    public ulong MaxMemMiB { get; }

    /// <summary>mmio_hole= (MiB), or the default 256.</summary>
    public ulong MmioHoleMiB { get; }

    /// <summary>Whether the config set <c>mmio_hole</c> (else <see cref="MmioHoleMiB"/> is libxl's default).</summary>
    public bool MmioHoleGiven => _holeGiven;

    /// <summary>Start of the MMIO hole (4 GiB − mmio_hole).</summary>
    public ulong MmioStart { get; }

    /// <summary>End (exclusive) of RAM below the hole.</summary>
    public ulong LowRamEnd { get; }

    /// <summary>End (exclusive) of RAM above 4 GiB, or 0 when all RAM fits below the hole.</summary>
    public ulong HighRamEnd { get; }

    /// <summary>Ranges nothing of ours may overlap: RAM, the PCI BAR space and the hole's fixed ranges.</summary>
    public IReadOnlyList<GuestRange> Forbidden { get; }

    /// <summary>
    /// The default vnvdimm_base: the first 1 GiB boundary above the highest RAM the guest can have,
    /// never below 4 GiB.
    /// </summary>
    public ulong DefaultWindowBase
    {
        get
        {
            const ulong GiB = 1UL << 30;
            ulong top = Math.Max(FourGiB, HighRamEnd);
            return (top + GiB - 1) / GiB * GiB;
        }
    }

    /// <summary>The layout libxl gives a guest with these xl settings (MiB; null = not in the config).</summary>
    public static GuestMemoryMap Xen(ulong? memoryMiB, ulong? maxMemMiB, ulong? mmioHoleMiB)
    {
        foreach (var (key, v) in new[] { ("memory", memoryMiB), ("maxmem", maxMemMiB) })
            if (v is 0 || v > MaxMemoryMiB)
                throw new UserErrorException($"{key} {v} is outside 1..{MaxMemoryMiB} (MiB)");
        if (mmioHoleMiB is ulong h && (h < DefaultMmioHoleMiB || h > MaxMmioHoleMiB))
            throw new UserErrorException($"mmio_hole {h} is outside {DefaultMmioHoleMiB}..{MaxMmioHoleMiB} (MiB), as xl requires");
        // xl_parse.c: max_memkb = maxmem, else memory; libxl_create.c: else 32 MiB. target = memory, else max.
        ulong max = maxMemMiB ?? memoryMiB ?? DefaultMemoryMiB;
        ulong target = memoryMiB ?? max;
        return new GuestMemoryMap(target, max, mmioHoleMiB ?? DefaultMmioHoleMiB, mmioHoleMiB is not null);
    }

    /// <summary>The first forbidden range sharing an address with [first, last], or null.</summary>
    public GuestRange? FirstOverlap(ulong first, ulong last) => Forbidden.FirstOrDefault(r => r.Overlaps(first, last));

    /// <summary>The settings this map came from, for error messages: "(memory=768, mmio_hole=3584)".</summary>
    public string Describe()
    {
        string s = $"memory={MemoryMiB}";
        if (MaxMemMiB != MemoryMiB)
            s += $", maxmem={MaxMemMiB}";
        s += _holeGiven ? $", mmio_hole={MmioHoleMiB}" : $", default mmio_hole={MmioHoleMiB}";
        return $"({s})";
    }

    /// <summary>
    /// Why [first, last] may not hold vNVDIMM frames ("overlaps the guest's high RAM 0x..-0x.. (memory=...)"),
    /// or null when it lies clear of RAM and of the hole's fixed ranges.
    /// </summary>
    public string? WhyNotWindow(ulong first, ulong last) =>
        FirstOverlap(first, last) is { } r ? $"overlaps {r} {Describe()}" : null;

    /// <summary>
    /// Why the DSM mailbox page at <paramref name="gpa"/> is misplaced: it must lie between the end of low
    /// RAM and 4 GiB (guest RAM there would be handed out by the guest kernel), clear of the hole's fixed
    /// ranges and of the space hvmloader gives PCI BARs.
    /// </summary>
    public string? WhyNotMailbox(ulong gpa)
    {
        ulong last = gpa + 4095;
        if (last >= FourGiB || last < gpa)
            return $"is outside the guest's MMIO hole 0x{LowRamEnd:x}-0x{FourGiB - 1:x} {Describe()}";
        return FirstOverlap(gpa, last) is { } r ? $"overlaps {r} {Describe()}" : null;
    }
}
