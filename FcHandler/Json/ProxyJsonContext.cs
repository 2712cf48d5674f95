using System.Text.Json.Serialization;
using FcHandler.Errors;

namespace FcHandler.Json;

/// <summary>Source-generated System.Text.Json metadata for every type the proxy writes: no reflection under NativeAOT.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ErrorEnvelope))]
[JsonSerializable(typeof(HealthStatus))]
[JsonSerializable(typeof(Access.TokenPayload))]
internal sealed partial class ProxyJsonContext : JsonSerializerContext;

/// <summary>The health endpoint's body.</summary>
internal sealed record HealthStatus(string Status);
