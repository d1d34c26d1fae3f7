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
    public static IEnumerable<(string Name, int Size, IReadOnlyList<(string Field, int Offset)> Fields)> Structs()
    {
        foreach (var t in AbiTypes().Where(t => t.IsValueType && t.GetCustomAttribute<AbiStructAttribute>() is not null))
        {
            int size = ManagedSize(t);
            if (size != Marshal.SizeOf(t))
                throw new InvalidOperationException($"{t.Name}: managed and marshalled sizes differ");
            var fields = t.GetFields(BindingFlags.Instance | BindingFlags.Public)
                .Select(f => (f.Name, Offset: (int)Marshal.OffsetOf(t, f.Name)))
                .Where(f => f.Name != "bits") // ioreq_t's bit-field byte is described by IoreqConstants.
                .OrderBy(f => f.Offset)
                .ToList();
            yield return (t.Name, size, fields);
        }
    }

    /// <summary>Each ABI constant's C name and value.</summary>
    public static IEnumerable<(string Name, ulong Value)> Constants()
    {
        foreach (var t in AbiTypes().Where(t => t.GetCustomAttribute<AbiConstantsAttribute>() is not null))
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

    private static IEnumerable<Type> AbiTypes() =>
        typeof(AbiCatalog).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(AbiCatalog).Namespace)
            .OrderBy(t => t.MetadataToken);

    private static int ManagedSize(Type t) =>
        (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(t).Invoke(null, null)!;
}
