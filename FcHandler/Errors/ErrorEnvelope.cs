namespace FcHandler.Errors;

/// <summary>
/// OpenAI's error shape, <c>{"error":{"message","type","param","code"}}</c>
/// (https://platform.openai.com/docs/guides/error-codes), so every client parses a proxy-side failure the way it
/// parses OpenAI's own. <c>request_id</c> is extra: it matches the proxy's access log line.
/// </summary>
internal sealed record ErrorEnvelope(ErrorBody Error);

internal sealed record ErrorBody(string Message, string Type, string? Param, string Code, string RequestId);
