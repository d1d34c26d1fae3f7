using XenVnvdimm.Acpi.Aml;

namespace XenVnvdimm.Acpi.Tables;

/// <summary>A definition block (SSDT/DSDT): header followed by AML terms.</summary>
public static class AmlTable
{
    /// <summary>Builds a checksummed definition block from <paramref name="terms"/>.</summary>
    public static byte[] Build(AcpiTableHeader header, IEnumerable<AmlNode> terms)
    {
        var writer = new AcpiTableWriter(header);
        foreach (var t in terms)
            writer.Write(t.ToBytes().AsSpan());
        return writer.Finish();
    }
}
