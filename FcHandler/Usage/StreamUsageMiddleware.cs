using FcHandler.Access;
using FcHandler.Hosting;
using FcHandler.Proxy;
using Microsoft.Net.Http.Headers;

namespace FcHandler.Usage;

/// <summary>
/// <c>CHAT_STREAM_USAGE=always</c>: a streamed chat completion reports its usage only when the client asked for it
/// (<c>stream_options.include_usage</c>, https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream_options),
/// and most clients do not. This step adds <c>"stream_options":{"include_usage":true}</c> to a request that streams
/// and has no <c>stream_options</c>, asks for an uncompressed answer so the extra last chunk can be found, and has
/// the response's <see cref="UsageChunkFilter"/> remove that chunk, so the client receives the events it asked for
/// (each chunk then also carries <c>"usage":null</c>, which the API documents for every chunk of such a stream).
/// Runs after admission, on the buffered body; the body is not copied, only its first bytes.
/// </summary>
internal sealed class StreamUsageMiddleware(RequestDelegate next)
{
    private const string ChatCompletions = "/v1/chat/completions";

    private static ReadOnlySpan<byte> Insert => "\"stream_options\":{\"include_usage\":true},"u8;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsPost(request.Method) && request.Path.Value == ChatCompletions
            && await ModelReader.ReadStreamFieldsAsync(request, context.RequestAborted) is (true, false)
            && await InsertAsync(request, context.RequestAborted))
        {
            request.Headers.AcceptEncoding = "identity";
            context.Features.Get<ProxyExchange>()?.UsageRequestedByProxy = true;
        }

        await next(context);
    }

    // Body: <whitespace>{ + insert + the rest as it was. The object is not empty (it has "stream"), so a comma fits.
    private static async Task<bool> InsertAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var start = new byte[Math.Min(request.ContentLength ?? 0, 64)];
        var read = await request.Body.ReadAtLeastAsync(start, start.Length, throwOnEndOfStream: false, cancellationToken);
        var brace = start.AsSpan(0, read).IndexOfAnyExcept(" \t\r\n"u8);
        if (brace < 0 || start[brace] != (byte)'{')
        {
            request.Body.Position = 0;
            return false;
        }

        var prefix = new byte[brace + 1 + Insert.Length];
        start.AsSpan(0, brace + 1).CopyTo(prefix);
        Insert.CopyTo(prefix.AsSpan(brace + 1));
        request.Body.Position = brace + 1;
        request.Body = new PrefixedReadStream(prefix, request.Body);
        request.ContentLength += Insert.Length;
        return true;
    }

    /// <summary>Adds the step when <c>CHAT_STREAM_USAGE=always</c>; refuses a value it does not know.</summary>
    public static void Use(WebApplication app)
    {
        var setting = app.Configuration[ConfigKeys.ChatStreamUsage]?.Trim().ToLowerInvariant();
        switch (setting)
        {
            case null or "" or "client":
                return; // the default: the client decides, and nothing here runs
            case "always":
                app.Use(next => new StreamUsageMiddleware(next).InvokeAsync);
                return;
            default:
                throw new ConfigurationException($"{ConfigKeys.ChatStreamUsage} must be client (the default) or always; got '{setting}'.");
        }
    }
}
