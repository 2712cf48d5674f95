using System.Diagnostics;
using FcHandler.Proxy.WebSockets;

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

    /// <summary>When the upstream's response headers arrived (<see cref="Stopwatch"/> ticks), or 0 if they never did.</summary>
    public long UpstreamHeadersTimestamp { get; private set; }

    public void MarkUpstreamHeaders() => UpstreamHeadersTimestamp = Stopwatch.GetTimestamp();
}
