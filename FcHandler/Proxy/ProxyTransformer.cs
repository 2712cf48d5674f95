using FcHandler.Keys;
using FcHandler.Proxy.WebSockets;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace FcHandler.Proxy;

/// <summary>
/// Applies <see cref="HeaderRules"/> to what YARP copies. It replaces YARP's own header copy rather than
/// trimming its result: <see cref="HttpTransformer.Default"/> adds X-Forwarded-* and forwards FC's x-fc-*
/// credentials, <see cref="HttpTransformer.Empty"/> forwards the client's Host.
/// </summary>
/// <param name="requestHeaders">The request rule, with the operator's additions; built once at start-up.</param>
internal sealed class ProxyTransformer(RequestAllowList requestHeaders) : HttpTransformer
{
    public override ValueTask TransformRequestAsync(
        HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        var headers = httpContext.Request.Headers;

        // RFC 9112 section 6.3: with both, Transfer-Encoding wins and Content-Length must not be forwarded, or the
        // two ends could disagree on where the body stops (request smuggling).
        var chunked = headers.ContainsKey(HeaderNames.TransferEncoding);

        // A WebSocket the relay handles brings its handshake headers along.
        var upgrade = httpContext.Features.Get<IHttpUpgradeFeature>() is RelayUpgradeFeature;

        foreach (var (name, values) in headers)
        {
            if (!(requestHeaders.Allows(name) || (upgrade && HeaderRules.IsHandshakeHeader(name)))
                || (chunked && name.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            // Content headers (Content-Type, Content-Length, ...) only fit on the content; YARP has created it
            // whenever the request has a body.
            if (!proxyRequest.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                proxyRequest.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        // The key pool's part of the request: whose it is and its body, to send again to another key.
        if (httpContext.Features.Get<KeyAttempt>() is { } attempt)
        {
            attempt.Body = httpContext.Request.Body;
            attempt.RequestId = httpContext.TraceIdentifier;
            proxyRequest.Options.Set(KeyAttempt.Option, attempt);
        }

        // Host comes from the upstream URL, and with it TLS SNI: never the client's Host.
        proxyRequest.Headers.Host = null;
        return default;
    }

    public override ValueTask<bool> TransformResponseAsync(
        HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is null)
        {
            return new ValueTask<bool>(false);
        }

        httpContext.Features.Get<ProxyExchange>()?.MarkUpstreamHeaders(httpContext.Request, proxyResponse);

        var destination = httpContext.Response.Headers;
        Copy(proxyResponse.Headers, destination);
        Copy(proxyResponse.Content.Headers, destination);

        // Status and headers are set: a quiet event stream may now be kept open with comments (never a compressed one,
        // which a comment would corrupt).
        if (string.Equals(proxyResponse.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase)
            && proxyResponse.Content.Headers.ContentEncoding.Count == 0)
        {
            httpContext.Features.Get<SseHeartbeat>()?.Arm();
        }

        return new ValueTask<bool>(true);
    }

    private static void Copy(System.Net.Http.Headers.HttpHeaders source, IHeaderDictionary destination)
    {
        foreach (var (name, values) in source.NonValidated)
        {
            var value = values.ToString(); // no copy for the usual single value
            if (HeaderRules.ForResponse(name, value) == HeaderAction.Drop)
            {
                continue;
            }

            destination[name] = values.Count == 1 ? value : new StringValues([.. values]);
        }
    }
}
