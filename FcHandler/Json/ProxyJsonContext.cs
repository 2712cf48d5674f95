using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using FcHandler.Errors;
using FcHandler.Fc.Events;

namespace FcHandler.Json;

/// <summary>Source-generated System.Text.Json metadata for every type the proxy writes: no reflection under NativeAOT.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ErrorEnvelope))]
[JsonSerializable(typeof(HealthStatus))]
[JsonSerializable(typeof(Access.TokenPayload))]
[JsonSerializable(typeof(FcHttpEventResponse))]
internal sealed partial class ProxyJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The context to write with: the default encoder escapes quotes and apostrophes as \u0022 and \u0027, which is
    /// valid but unreadable in an error message or an event body. These bodies are JSON for API clients, never HTML.
    /// </summary>
    public static ProxyJsonContext Web { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

/// <summary>The health endpoint's body.</summary>
internal sealed record HealthStatus(string Status);
