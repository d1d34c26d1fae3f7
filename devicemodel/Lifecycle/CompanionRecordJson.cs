using System.Text.Json.Serialization;

namespace XenVnvdimm.DeviceModel.Lifecycle;

/// <summary>Source-generated JSON for the state file (no reflection: the program is compiled ahead of time).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(CompanionRecord))]
internal sealed partial class CompanionRecordJson : JsonSerializerContext;
