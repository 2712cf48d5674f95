using System.Text;
using System.Text.Json;
using FcHandler.Errors;
using FcHandler.Json;
using FcHandler.Proxy;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace FcHandler.Fc.Events;

/// <summary>
/// Event mode: turns FC's HTTP-trigger event into a request, runs it through the same pipeline as any HTTP request
/// (access log, CORS, route table, header rules, forwarder), and answers with FC's event response. Streams are
/// collected whole: FC event functions cannot stream.
/// </summary>
internal static class EventInvoker
{
    /// <summary>A 32 MB body, base64-encoded, plus the event around it.</summary>
    private const int MaxEventBytes = 48 * 1024 * 1024;

    public static async Task InvokeAsync(HttpContext context, RequestDelegate pipeline)
    {
        // 1. Read and validate the event; a bad one is refused naming the field, and nothing is forwarded.
        var json = await ReadEventAsync(context);
        EventError? error = null;
        var request = json is null
            ? null
            : EventRequest.TryParse(json, out error);
        if (request is null)
        {
            error ??= new EventError("(body)", $"The event is larger than {MaxEventBytes / (1024 * 1024)} MB.");
            await ErrorWriter.WriteAsync(context, ProxyError.InvalidEvent(error.Field, error.Message));
            return;
        }

        // 2. Run the request through the pipeline with an in-memory response.
        using var response = new EventResponseFeature();
        using var lifetime = new EventLifetimeFeature(context.RequestAborted);
        await pipeline(CreateContext(context, request, response, lifetime));
        await response.CompleteAsync();

        // 3. Answer with the event response: what the pipeline produced, or an error if it broke off midway.
        var result = lifetime.WasAborted
            ? ErrorResult(ProxyError.UpstreamIncomplete(), context.TraceIdentifier)
            : ToEventResponse(response);
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, result, ProxyJsonContext.Web.FcHttpEventResponse, context.RequestAborted);
    }

    private static async Task<byte[]?> ReadEventAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxEventBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static DefaultHttpContext CreateContext(
        HttpContext outer, EventRequest request, EventResponseFeature response, EventLifetimeFeature lifetime)
    {
        var headers = new HeaderDictionary();
        foreach (var (name, value) in request.Headers)
        {
            headers.Append(name, value);
        }

        // The body is whole: its length is known, whatever framing the original request had.
        headers.Remove(HeaderNames.TransferEncoding);
        headers.ContentLength = request.Body.Length;

        var features = new FeatureCollection();
        features.Set<IHttpRequestFeature>(new HttpRequestFeature
        {
            Protocol = "HTTP/1.1",
            Scheme = "http",
            Method = request.Method,
            PathBase = "",
            // Decoded as Kestrel decodes; the pipeline checks RawTarget, so nothing encoded slips past it.
            Path = PathString.FromUriComponent(request.RawPath).Value!,
            QueryString = request.QueryString,
            RawTarget = request.RawPath + request.QueryString,
            Headers = headers,
            Body = new MemoryStream(request.Body, writable: false),
        });
        features.Set<IHttpResponseFeature>(response);
        features.Set<IHttpResponseBodyFeature>(response);
        features.Set<IHttpRequestLifetimeFeature>(lifetime);
        features.Set<IServiceProvidersFeature>(new ServiceProvidersFeature { RequestServices = outer.RequestServices });
        if (outer.GetFcContext() is { } fcContext)
        {
            features.Set(fcContext);
        }

        return new DefaultHttpContext(features) { TraceIdentifier = outer.TraceIdentifier };
    }

    private static FcHttpEventResponse ToEventResponse(EventResponseFeature response)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in response.Headers)
        {
            headers[name] = values.ToString();
        }

        var body = response.BodyBytes.Span;
        var asText = IsText(response.Headers);
        return new FcHttpEventResponse(
            response.StatusCode,
            headers,
            asText ? Encoding.UTF8.GetString(body) : Convert.ToBase64String(body),
            IsBase64Encoded: !asText);
    }

    private static FcHttpEventResponse ErrorResult(ProxyError error, string requestId)
        => new(
            error.Status,
            new Dictionary<string, string> { [HeaderNames.ContentType] = "application/json; charset=utf-8" },
            JsonSerializer.Serialize(
                error.ToEnvelope(requestId),
                ProxyJsonContext.Web.ErrorEnvelope),
            IsBase64Encoded: false);

    // Text goes as it is, readable in FC's console; anything else (audio, images, compressed bodies) as base64.
    private static bool IsText(IHeaderDictionary headers)
    {
        if (headers.ContentEncoding.Count > 0)
        {
            return false;
        }

        var contentType = headers.ContentType.ToString();
        if (contentType.Length == 0)
        {
            return true;
        }

        var mediaType = MediaTypes.Of(contentType);
        return mediaType.StartsWith("text/", StringComparison.OrdinalIgnoreCase)
            || MediaTypes.IsJson(mediaType)
            || mediaType.Equals("application/x-ndjson", StringComparison.OrdinalIgnoreCase)
            || mediaType.Equals("application/jsonl", StringComparison.OrdinalIgnoreCase);
    }
}
