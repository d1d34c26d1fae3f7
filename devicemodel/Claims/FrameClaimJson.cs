using System.Text.Json.Serialization;

namespace XenVnvdimm.DeviceModel.Claims;

/// <summary>Source-generated JSON for claim files (no reflection: the program is compiled ahead of time).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(FrameClaim))]
internal sealed partial class FrameClaimJson : JsonSerializerContext;
