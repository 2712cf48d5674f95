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
/// Runs after admission, on the buffered body; the body is not copied, only its first bytes. The limits step asks for
/// the same on a request whose usage settles a budget (<see cref="ProxyExchange.UsageRequired"/>), whatever the setting.
/// </summary>
internal sealed class StreamUsageMiddleware(RequestDelegate next, bool always)
{
    private const string ChatCompletions = "/v1/chat/completions";

    private static readonly byte[] Insert = "\"stream_options\":{\"include_usage\":true},"u8.ToArray();

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsPost(request.Method) && request.Path.Value == ChatCompletions
            && (always || context.Features.Get<ProxyExchange>()?.UsageRequired == true)
            && await ModelReader.ReadStreamFieldsAsync(request, context.RequestAborted) is (true, false)
            && await JsonBodyInsertion.InsertAsync(request, Insert, context.RequestAborted))
        {
            request.Headers.AcceptEncoding = "identity";
            context.Features.Get<ProxyExchange>()?.UsageRequestedByProxy = true;
        }

        await next(context);
    }

    /// <summary>Adds the step; refuses a <c>CHAT_STREAM_USAGE</c> value it does not know.</summary>
    public static void Use(WebApplication app)
    {
        var setting = app.Configuration[ConfigKeys.ChatStreamUsage]?.Trim().ToLowerInvariant();
        var always = setting switch
        {
            null or "" or "client" => false, // the default: the client decides, unless a budget needs the usage
            "always" => true,
            _ => throw new ConfigurationException($"{ConfigKeys.ChatStreamUsage} must be client (the default) or always; got '{setting}'."),
        };

        app.Use(next => new StreamUsageMiddleware(next, always).InvokeAsync);
    }
}
