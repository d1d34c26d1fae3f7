using XenVnvdimm.Acpi.Nfit;
using XenVnvdimm.Acpi.Ssdt;
using XenVnvdimm.DeviceModel.Config;
using XenVnvdimm.DeviceModel.Layout;

namespace XenVnvdimm.DeviceModel.Tables;

/// <summary>The guest's NVDIMM tables built from a layout.</summary>
/// <param name="Nfit">The NFIT (whole table).</param>
/// <param name="Ssdt">The NVDIMM SSDT.</param>
public sealed record GuestTables(byte[] Nfit, byte[] Ssdt)
{
    /// <summary>Intel's PCI vendor id, as QEMU uses for its NVDIMMs.</summary>
    public const ushort VendorId = 0x8086;

    /// <summary>SSDT followed by NFIT: the file for xl's <c>acpi_firmware=</c>.</summary>
    public byte[] AcpiFirmware => [.. Ssdt, .. Nfit];

    /// <summary>Builds NFIT and SSDT for <paramref name="layout"/>.</summary>
    public static GuestTables Build(GuestLayout layout)
    {
        var nfit = BuildNfit(layout);
        var ssdt = NvdimmSsdt.Build(new NvdimmSsdtOptions(
            checked((uint)layout.MailboxGpa), layout.DoorbellPort, layout.SlotCount, nfit.ToFitBuffer(), layout.EventIrq));
        return new GuestTables(nfit.ToTable(), ssdt);
    }

    /// <summary>The NFIT: per device an SPA range, a memory-device map and a control region (QEMU's order).</summary>
    public static NfitTable BuildNfit(GuestLayout layout)
    {
        var s = new List<INfitStructure>();
        foreach (var d in layout.Devices)
        {
            s.Add(new NfitSpaRange(d.SpaIndex,
                NfitSpaRange.FlagAddOnlineOperationOnly | NfitSpaRange.FlagProximityDomainValid,
                d.Node, NfitSpaRange.PersistentMemoryGuid, d.Gpa, d.Size,
                NfitSpaRange.EfiMemoryWb | NfitSpaRange.EfiMemoryNv));
            s.Add(new NfitMemoryDeviceMap(d.Handle, PhysicalId: 0, RegionId: 0, d.SpaIndex, d.DcrIndex,
                d.Size, RegionOffset: 0, DpaBase: 0, InterleaveIndex: 0, InterleaveWays: 1,
                Flags: d.Unarmed ? NfitMemoryDeviceMap.FlagNotArmed : (ushort)0));
            s.Add(new NfitControlRegion(d.DcrIndex, VendorId, DeviceId: 1, RevisionId: 1,
                SubsystemVendorId: 0, SubsystemDeviceId: 0, SubsystemRevisionId: 0, ValidFields: 0,
                ManufacturingLocation: 0, ManufacturingDate: 0, d.Serial,
                NfitControlRegion.FormatByteAddressable, WindowCount: 0, Flags: 0));
        }
        switch (layout.Persistence)
        {
            case PersistenceDomain.Cpu:
                s.Add(new NfitPlatformCapabilities(1, NfitPlatformCapabilities.CpuCacheFlush | NfitPlatformCapabilities.MemoryControllerFlush));
                break;
            case PersistenceDomain.MemoryController:
                s.Add(new NfitPlatformCapabilities(1, NfitPlatformCapabilities.MemoryControllerFlush));
                break;
        }
        return new NfitTable(s);
    }
}
