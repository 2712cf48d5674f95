using System.Buffers;
using FcHandler.Hosting;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace FcHandler.Proxy;

/// <summary>
/// Cross-origin rules, so browser apps can call the API through the proxy. Any origin by default; with
/// <c>CORS_ALLOWED_ORIGINS</c>, only the listed ones, reflected with <c>Vary: Origin</c>. No credentials: OpenAI
/// clients authenticate with a header, and a wildcard origin with credentials is invalid anyway.
/// </summary>
internal sealed class CorsPolicy
{
    /// <summary>
    /// Response headers a browser app may read: OpenAI's request id, version and timing, rate limits and retry hints.
    /// https://platform.openai.com/docs/api-reference/debugging-requests
    /// </summary>
    public const string ExposedHeaders =
        "x-request-id, openai-organization, openai-project, openai-processing-ms, openai-version, " +
        "x-ratelimit-limit-requests, x-ratelimit-limit-tokens, x-ratelimit-remaining-requests, " +
        "x-ratelimit-remaining-tokens, x-ratelimit-reset-requests, x-ratelimit-reset-tokens, retry-after, retry-after-ms";

    public const string AllowedMethods = "GET, POST, PUT, PATCH, DELETE, OPTIONS";

    /// <summary>A day; browsers cap it lower (Chromium at two hours) and that is fine.</summary>
    public const string MaxAge = "86400";

    // RFC 9110 token characters plus the list separators: a reflected Access-Control-Request-Headers is echoed only
    // if it is a plain header-name list.
    private static readonly SearchValues<char> HeaderListChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz, \t");

    private readonly HashSet<string>? _origins;

    public CorsPolicy(ProxyOptions options)
    {
        _origins = options.CorsAllowedOrigins.Count == 0
            ? null
            : new HashSet<string>(options.CorsAllowedOrigins, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Adds the headers every response carries, errors included.</summary>
    public void ApplyTo(HttpRequest request, HttpResponse response)
    {
        var headers = response.Headers;
        if (_origins is null)
        {
            headers.AccessControlAllowOrigin = "*";
        }
        else
        {
            headers.Append(HeaderNames.Vary, "Origin");
            var origin = request.Headers.Origin;
            if (origin.Count != 1 || !_origins.Contains(origin.ToString()))
            {
                return;
            }

            headers.AccessControlAllowOrigin = origin;
        }

        headers.AccessControlExposeHeaders = ExposedHeaders;
    }

    /// <summary>
    /// Whether a WebSocket may be opened from the request's origin. Browsers apply no CORS to WebSockets (any page can
    /// open one to any host, RFC 6455 section 10.2), so with a list of origins the proxy checks for them: a page from
    /// elsewhere is refused. A request without <c>Origin</c> is no browser's, and passes, as it would over HTTP.
    /// </summary>
    public bool AllowsWebSocketFrom(HttpRequest request)
    {
        var origin = request.Headers.Origin;
        return _origins is null || origin.Count == 0 || (origin.Count == 1 && _origins.Contains(origin.ToString()));
    }

    /// <summary>Answers a preflight locally: the upstream never sees OPTIONS.</summary>
    public void AnswerPreflight(HttpRequest request, HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status204NoContent;
        response.Headers.Allow = AllowedMethods;
        if (StringValues.IsNullOrEmpty(response.Headers.AccessControlAllowOrigin))
        {
            return;
        }

        var headers = response.Headers;
        headers.AccessControlAllowMethods = AllowedMethods;
        headers.AccessControlMaxAge = MaxAge;

        // Reflect what the browser asks for: the official SDKs send x-stainless-* headers, and a fixed list would
        // fall behind them.
        var requested = request.Headers.AccessControlRequestHeaders.ToString();
        if (requested.Length > 0 && requested.AsSpan().IndexOfAnyExcept(HeaderListChars) < 0)
        {
            headers.AccessControlAllowHeaders = requested;
        }

        headers.Append(HeaderNames.Vary, "Access-Control-Request-Headers");
    }
}
