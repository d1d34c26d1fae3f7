using System.Text;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Labels;

namespace XenVnvdimm.DeviceModel.Layout;

/// <summary>
/// Places the configured vNVDIMMs: slots (explicit first, then lowest free), QEMU-compatible
/// handles and NFIT indices, stable serials, and guest-physical ranges in slot order, each
/// aligned to the device's alignment (and to 16 MiB when it is that large: Linux's default region
/// alignment) so the guest can create fsdax/devdax namespaces.
/// </summary>
public static class LayoutPlanner
{
    /// <summary>Guest physical addresses must stay below 2^52 (x86-64 MAXPHYADDR limit).</summary>
    public const ulong AddressLimit = 1UL << 52;

    /// <summary>Plans the layout or throws a <see cref="UserErrorException"/> naming the entry and key.</summary>
    /// <param name="config">The guest's vNVDIMM settings.</param>
    /// <param name="backendSize">Sizes backends (tests); null asks the filesystem.</param>
    /// <param name="labels">Where labels go when an entry names no file; null for <see cref="LabelLocation.Default"/>.</param>
    public static GuestLayout Plan(VnvdimmConfig config, Func<string, ulong?>? backendSize = null, LabelLocation? labels = null)
    {
        backendSize ??= BackendSize.TryGet;
        labels ??= LabelLocation.Default;
        var slots = AssignSlots(config.Devices, config.SlotCount);
        var layout = new GuestLayout([], config.SlotCount, config.WindowBase, config.MailboxGpa,
            config.DoorbellPort, config.EventIrq, config.Persistence, config.MemoryMap, config.BaseGiven);
        // In slot order, each device goes above the previous one: the same rule a hot-add follows.
        foreach (var (spec, slot) in config.Devices.Zip(slots).OrderBy(p => p.Second))
            layout = Place(layout, spec with { Slot = slot }, backendSize, labels, hotAdd: false);
        return layout;
    }

    /// <summary>
    /// Places one hot-added device into a running guest's layout without moving anything: the
    /// lowest free slot (or the requested one) and the first aligned address above every
    /// device already present. Throws a <see cref="UserErrorException"/> naming the spec.
    /// </summary>
    public static GuestLayout PlanHotAdd(GuestLayout current, VnvdimmDeviceSpec spec, Func<string, ulong?>? backendSize = null, LabelLocation? labels = null) =>
        Place(current, spec, backendSize ?? BackendSize.TryGet, labels ?? LabelLocation.Default, hotAdd: true);

    /// <summary>
    /// The one placement rule set, for a start and a hot-add alike: slot, backend twin, size against the
    /// backend and the alignment, serial, address (aligned, above every placed device, below 2^52),
    /// clear of the DSM mailbox and of the guest's RAM and fixed ranges. A hot-add also needs the
    /// backend to exist now (a start may be planned by <c>tables</c> before the backend is created).
    /// </summary>
    private static GuestLayout Place(GuestLayout current, VnvdimmDeviceSpec spec, Func<string, ulong?> backendSize, LabelLocation labels, bool hotAdd)
    {
        var used = current.Devices.Select(d => d.Slot).ToHashSet();
        int slot = spec.Slot ?? Enumerable.Range(0, current.SlotCount).FirstOrDefault(s => !used.Contains(s), -1);
        if (slot < 0)
            throw new UserErrorException($"{spec.Name}: no free slot (all {current.SlotCount} pre-declared slots are in use)");
        if (slot >= current.SlotCount)
            throw new UserErrorException($"{spec.Name}: slot {slot} is not below vnvdimm_slots {current.SlotCount}");
        if (used.Contains(slot))
            throw new UserErrorException($"{spec.Name}: slot {slot} is already in use");

        string canonical = Path.GetFullPath(spec.Backend);
        if (current.Devices.FirstOrDefault(d => Path.GetFullPath(d.Backend) == canonical) is { } twin)
            throw new UserErrorException($"{spec.Name}: backend '{spec.Backend}' is already mapped in slot {twin.Slot}");
        ulong? actual = backendSize(spec.Backend);
        ulong size = spec.Size ?? actual
            ?? throw new UserErrorException($"{spec.Name}: backend '{spec.Backend}' does not exist, so its size is unknown (give size=)");
        if (hotAdd && actual is null)
            throw new UserErrorException($"{spec.Name}: backend '{spec.Backend}' does not exist");
        if (actual is ulong a && size > a)
            throw new UserErrorException($"{spec.Name}: size {SizeParser.Format(size)} is larger than backend '{spec.Backend}' ({SizeParser.Format(a)})");
        if (size % spec.Align != 0)
            throw new UserErrorException($"{spec.Name}: size {SizeParser.Format(size)} is not a multiple of align {SizeParser.Format(spec.Align)}");
        uint serial = spec.Serial ?? DeriveSerial(canonical);
        if (current.Devices.FirstOrDefault(d => d.Serial == serial) is { } clash)
            throw new UserErrorException($"{spec.Name}: serial 0x{serial:x} duplicates the serial of slot {clash.Slot}");

        ulong top = current.Devices.Select(d => d.Gpa + d.Size).DefaultIfEmpty(current.WindowBase).Max();
        ulong gpa = AlignUp(top, PlacementAlign(spec.Align, size), spec.Name);
        if (gpa > AddressLimit || size > AddressLimit - gpa)
            throw new UserErrorException($"{spec.Name}: window wraps past 2^52 (gpa 0x{gpa:x} + size 0x{size:x}); lower vnvdimm_base or the sizes");
        ulong last = gpa + size - 1;
        if (current.MailboxGpa <= last && current.MailboxGpa + 4095 >= gpa)
            throw new UserErrorException($"{spec.Name}: guest range 0x{gpa:x}-0x{last:x} overlaps dsm_mailbox 0x{current.MailboxGpa:x}");
        // The device's own range: frames go only there (the base itself was checked with the config).
        if (current.MemoryMap?.WhyNotWindow(gpa, last) is string why)
        {
            string prefix = hotAdd || !current.BaseGiven ? $"{spec.Name}: " : "";
            string key = current.BaseGiven ? $"vnvdimm_base 0x{current.WindowBase:x}: " : "";
            throw new UserErrorException($"{prefix}{key}the window 0x{gpa:x}-0x{last:x} {why}");
        }

        var device = new PlannedDevice(
            slot,
            Handle: (uint)slot + 1,
            SpaIndex: (ushort)((slot + 1) << 1),
            DcrIndex: (ushort)(((slot + 1) << 1) + 1),
            gpa,
            size,
            spec.Backend,
            spec.LabelSize,
            spec.LabelSize == 0 ? null : spec.Label ?? labels.Resolve(spec.Name, canonical, serial),
            serial,
            spec.Node,
            spec.Unarmed,
            spec.Align);
        return current with { Devices = [.. current.Devices, device] };
    }

    /// <summary>
    /// A serial derived from the canonical backend path (FNV-1a), so the same backend keeps its
    /// serial, and with it the guest's interleave-set cookie and labels, across restarts.
    /// </summary>
    public static uint DeriveSerial(string canonicalBackend)
    {
        uint h = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(canonicalBackend))
            h = (h ^ b) * 16777619;
        return h == 0 ? 1 : h;
    }

    private static List<int> AssignSlots(IReadOnlyList<VnvdimmDeviceSpec> specs, int slotCount)
    {
        var used = new Dictionary<int, string>();
        foreach (var s in specs.Where(s => s.Slot is not null))
            if (!used.TryAdd(s.Slot!.Value, s.Name))
                throw new UserErrorException($"{s.Name}: slot {s.Slot} is already used by {used[s.Slot.Value]}");
        var result = new List<int>();
        int next = 0;
        foreach (var s in specs)
        {
            if (s.Slot is int fixedSlot)
            {
                result.Add(fixedSlot);
                continue;
            }
            while (used.ContainsKey(next))
                next++;
            if (next >= slotCount)
                throw new UserErrorException($"{s.Name}: no free slot (vnvdimm_slots is {slotCount})");
            used[next] = s.Name;
            result.Add(next);
        }
        return result;
    }

    /// <summary>
    /// Linux gives an NVDIMM region of at least 16 MiB a default alignment of 16 MiB
    /// (MEMREMAP_COMPAT_ALIGN_MAX, drivers/nvdimm/region_devs.c) and ndctl refuses to create a
    /// namespace in a region whose start is not aligned to it ("misaligned to 16M"): such devices
    /// start on a 16 MiB boundary, smaller ones (region alignment 4 KiB) on their own alignment.
    /// </summary>
    public const ulong LinuxRegionAlign = 16UL << 20;

    private static ulong PlacementAlign(ulong align, ulong size) =>
        size >= LinuxRegionAlign ? Math.Max(align, LinuxRegionAlign) : align;

    private static ulong AlignUp(ulong value, ulong align, string name)
    {
        ulong r = value % align;
        if (r == 0)
            return value;
        if (value > ulong.MaxValue - (align - r))
            throw new UserErrorException($"{name}: window wraps past 2^52");
        return value + (align - r);
    }
}
