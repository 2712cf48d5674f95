using System.Diagnostics;
using FcHandler.Proxy.WebSockets;
using FcHandler.Usage;

namespace FcHandler.Proxy;

/// <summary>
/// What the request path learned about one request, for the access log. Created first (by the access log) and
/// kept as an <see cref="HttpContext"/> feature, so each step records its part without knowing the others.
/// </summary>
internal sealed class ProxyExchange
{
    /// <summary>The route class, once the target has been checked and classified; null for local answers (preflights).</summary>
    public RouteClass? Route { get; set; }

    /// <summary>Who the client is, as access control admitted it (a token's subject); never a secret.</summary>
    public string? Subject { get; set; }

    /// <summary>The WebSocket session, when the request asked for one; it is relayed once <c>Relay</c> is set.</summary>
    public WebSocketSession? WebSocket { get; set; }
    /// <summary>The model the request asked for (generation routes), or null when it names none the proxy can read.</summary>
    public string? Model { get; set; }

    /// <summary>
    /// Bytes of the request body received from the client: the admission step reads every forwarded body whole
    /// (<c>RequestBodyBuffer</c>) and counts them as they arrive, the part of an upload that was cut off included.
    /// </summary>
    public long RequestBodyBytes { get; set; }

    /// <summary>
    /// The client went away before its request was whole, and the connection was aborted: nobody was answered. Set the
    /// moment it is known, where Kestrel's <c>RequestAborted</c> follows only later, from the thread pool.
    /// </summary>
    public bool ClientGone { get; set; }

    /// <summary>The proxy added <c>stream_options.include_usage</c> to this chat request (<c>CHAT_STREAM_USAGE=always</c>).</summary>
    public bool UsageRequestedByProxy { get; set; }

    /// <summary>
    /// A step needs this request's usage (a budget settles against it): a chat stream then asks OpenAI for it as
    /// <c>CHAT_STREAM_USAGE=always</c> does, and the client still receives only the events it asked for.
    /// </summary>
    public bool UsageRequired { get; set; }

    /// <summary>
    /// Runs once the response body is complete and before the response ends (the access log awaits it): settling a
    /// budget's reservation against the usage. Done then, not after: FC may freeze an instance with no request in flight,
    /// and work left for after the response could stall until the next request. Must not throw.
    /// </summary>
    public Func<Task>? Settlement { get; set; }

    /// <summary>
    /// Counts a WebSocket session's responses, when a step limits its tokens: each <c>response.create</c> is reserved
    /// before it reaches the upstream, and settled at the event that ends it.
    /// </summary>
    public ISessionResponses? SessionResponses { get; set; }

    /// <summary>When the upstream's response headers arrived (<see cref="Stopwatch"/> ticks), or 0 if they never did.</summary>
    public long UpstreamHeadersTimestamp { get; private set; }

    /// <summary>The upstream's status code, or null if no response arrived.</summary>
    public int? UpstreamStatus { get; private set; }

    /// <summary>The usage OpenAI reported in the response body, once the response is complete.</summary>
    public TokenUsage? Usage { get; private set; }

    /// <summary>
    /// Where OpenAI puts usage, the body held something that is not one clear count (a usage named twice): a budget
    /// keeps the whole reservation.
    /// </summary>
    public bool UsageUnreadable { get; private set; }

    /// <summary>
    /// The <c>error.code</c> of the error body the client received: the proxy's own (<see cref="RecordProxyError"/>),
    /// or the upstream's (its <c>error.type</c> when the code is null).
    /// </summary>
    public string? ErrorCode { get; private set; }

    /// <summary>Reads the upstream's response body as it passes; null when there is nothing to learn from it.</summary>
    public ResponseObserver? Observer { get; private set; }

    /// <summary>The upstream's response headers arrived: from here on its body passes through <see cref="Observer"/>.</summary>
    public void MarkUpstreamHeaders(HttpRequest request, HttpResponseMessage response)
    {
        UpstreamHeadersTimestamp = Stopwatch.GetTimestamp();
        UpstreamStatus = (int)response.StatusCode;

        // Reads of a stored answer (GET /v1/responses/{id}) repeat its usage: only the request that produced it counts.
        var producesUsage = Route == RouteClass.Generation && HttpMethods.IsPost(request.Method);
        Observer = ResponseObserver.For(
            producesUsage,
            UpstreamStatus.Value,
            response.Content.Headers.ContentType?.MediaType,
            response.Content.Headers.ContentEncoding.Count == 0 ? null : string.Join(',', response.Content.Headers.ContentEncoding),
            UsageRequestedByProxy);
    }

    /// <summary>The proxy answered with its own error: its code is the one logged, and no upstream body follows.</summary>
    public void RecordProxyError(string code)
    {
        ErrorCode = code;
        Observer?.Complete();
        Observer = null;
    }

    /// <summary>The response is complete: keeps what the observer learned and releases it.</summary>
    public void CompleteResponse()
    {
        if (Observer is null)
        {
            return;
        }

        var (usage, usageUnreadable, errorCode) = Observer.Complete();
        Observer = null;
        Usage = usage;
        UsageUnreadable = usageUnreadable;
        ErrorCode ??= errorCode;
    }
}
