using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace XenVnvdimm.DeviceModel.Xen.Abi;

/// <summary>
/// Every structure and constant the Xen layer marshals, as the C# code sees them: sizes and field offsets
/// of the <see cref="AbiStructAttribute"/> structs, and values of the <see cref="AbiConstantsAttribute"/>
/// classes. The ABI test compares this, key by key, with a C program built against Xen's headers.
/// </summary>
internal static class AbiCatalog
{
    /// <summary>Writes <c>{"structs": {...}, "constants": {...}}</c>.</summary>
    public static void WriteJson(Stream output)
    {
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteStartObject("structs");
        foreach (var (name, size, fields) in Structs())
        {
            w.WriteStartObject(name);
            w.WriteNumber("size", size);
            w.WriteStartObject("fields");
            foreach (var (field, offset) in fields)
                w.WriteNumber(field, offset);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteStartObject("constants");
        foreach (var (name, value) in Constants())
            w.WriteNumber(name, value);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>Each ABI struct's C name, size and field offsets (declaration order).</summary>
    public static IEnumerable<(string Name, int Size, IReadOnlyList<(string Field, int Offset)> Fields)> Structs() =>
    [
        Struct<xen_dm_op>(),
        Struct<xen_dm_op_create_ioreq_server>(),
        Struct<xen_dm_op_ioreq_server_range>(),
        Struct<xen_dm_op_set_ioreq_server_state>(),
        Struct<xen_dm_op_destroy_ioreq_server>(),
        Struct<xen_dm_op_set_isa_irq_level>(),
        Struct<xen_dm_op_set_irq_level>(),
        Struct<xen_dm_op_nr_vcpus>(),
        Struct<xen_dm_op_buf>(),
        Struct<xen_domctl>(),
        Struct<xen_domctl_iomem_permission>(),
        Struct<xen_domctl_memory_mapping>(),
        Struct<xen_domctl_getpageframeinfo3>(),
        Struct<xen_domctl_getdomaininfo>(),
        Struct<ioctl_evtchn_bind_interdomain>(),
        Struct<ioctl_evtchn_unbind>(),
        Struct<ioctl_evtchn_notify>(),
        Struct<ioctl_evtchn_restrict_domid>(),
        Struct<ioreq_t>(),
        Struct<xen_memory_reservation>(),
        Struct<xen_memory_domain>(),
        Struct<xen_mem_acquire_resource>(),
        Struct<xen_pmem_map>(),
        Struct<privcmd_hypercall>(),
        Struct<privcmd_mmapbatch_v2>(),
        Struct<privcmd_dm_op_buf>(),
        Struct<privcmd_dm_op>(),
        Struct<privcmd_mmap_resource>(),
    ];

    /// <summary>Each ABI constant's C name and value.</summary>
    public static IEnumerable<(string Name, ulong Value)> Constants() =>
    [
        .. Constants(typeof(DmOpConstants)),
        .. Constants(typeof(DomctlConstants)),
        .. Constants(typeof(EvtchnIoctls)),
        .. Constants(typeof(IoreqConstants)),
        .. Constants(typeof(MemoryConstants)),
        .. Constants(typeof(PrivcmdIoctls)),
        .. Constants(typeof(XenConstants)),
    ];

    // Listed, not discovered: a trimmed native program keeps exactly these types' fields.
    // AbiTests checks that the lists name every [AbiStruct] and [AbiConstants] type.

    /// <summary>The types <see cref="Structs"/> and <see cref="Constants()"/> describe.</summary>
    internal static IReadOnlyList<Type> ListedTypes =>
    [
        typeof(xen_dm_op),
        typeof(xen_dm_op_create_ioreq_server),
        typeof(xen_dm_op_ioreq_server_range),
        typeof(xen_dm_op_set_ioreq_server_state),
        typeof(xen_dm_op_destroy_ioreq_server),
        typeof(xen_dm_op_set_isa_irq_level),
        typeof(xen_dm_op_set_irq_level),
        typeof(xen_dm_op_nr_vcpus),
        typeof(xen_dm_op_buf),
        typeof(xen_domctl),
        typeof(xen_domctl_iomem_permission),
        typeof(xen_domctl_memory_mapping),
        typeof(xen_domctl_getpageframeinfo3),
        typeof(xen_domctl_getdomaininfo),
        typeof(ioctl_evtchn_bind_interdomain),
        typeof(ioctl_evtchn_unbind),
        typeof(ioctl_evtchn_notify),
        typeof(ioctl_evtchn_restrict_domid),
        typeof(ioreq_t),
        typeof(xen_memory_reservation),
        typeof(xen_memory_domain),
        typeof(xen_mem_acquire_resource),
        typeof(xen_pmem_map),
        typeof(privcmd_hypercall),
        typeof(privcmd_mmapbatch_v2),
        typeof(privcmd_dm_op_buf),
        typeof(privcmd_dm_op),
        typeof(privcmd_mmap_resource),
        typeof(DmOpConstants),
        typeof(DomctlConstants),
        typeof(EvtchnIoctls),
        typeof(IoreqConstants),
        typeof(MemoryConstants),
        typeof(PrivcmdIoctls),
        typeof(XenConstants),
    ];

    private static (string Name, int Size, IReadOnlyList<(string Field, int Offset)> Fields) Struct<
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)] T>() where T : struct
    {
        int size = Unsafe.SizeOf<T>();
        if (size != Marshal.SizeOf<T>())
            throw new InvalidOperationException($"{typeof(T).Name}: managed and marshalled sizes differ");
        var fields = typeof(T).GetFields(BindingFlags.Instance | BindingFlags.Public)
            .Select(f => (f.Name, Offset: (int)Marshal.OffsetOf<T>(f.Name)))
            .Where(f => f.Name != "bits") // ioreq_t's bit-field byte is described by IoreqConstants.
            .OrderBy(f => f.Offset)
            .ToList();
        return (typeof(T).Name, size, fields);
    }

    private static IEnumerable<(string Name, ulong Value)> Constants(
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields)] Type t)
    {
        foreach (var f in t.GetFields(BindingFlags.Static | BindingFlags.Public))
        {
            if (!f.IsLiteral && !f.IsInitOnly)
                continue;
            object? v = f.GetValue(null);
            yield return (f.Name, Convert.ToUInt64(v, System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
