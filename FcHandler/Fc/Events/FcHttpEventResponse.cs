using System.Text.Json.Serialization;

namespace FcHandler.Fc.Events;

/// <summary>
/// What an FC event function returns for an HTTP-trigger event: status, headers, body, and whether the body is
/// base64. https://help.aliyun.com/zh/functioncompute/fc-3-0/user-guide/http-trigger-invoking-function
/// </summary>
internal sealed record FcHttpEventResponse(
    [property: JsonPropertyName("statusCode")] int StatusCode,
    [property: JsonPropertyName("headers")] Dictionary<string, string> Headers,
    [property: JsonPropertyName("body")] string Body,
    [property: JsonPropertyName("isBase64Encoded")] bool IsBase64Encoded);
