using System.Text.Json.Serialization;

namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>Source-generated JSON for <c>hypervisor.json</c>: snake_case names, enum names as strings, indented for people.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UseStringEnumConverter = true, WriteIndented = true)]
[JsonSerializable(typeof(SimSnapshot))]
internal sealed partial class SimSnapshotJson : JsonSerializerContext;
