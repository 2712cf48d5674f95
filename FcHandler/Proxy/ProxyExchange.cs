using System.Diagnostics;

namespace FcHandler.Proxy;

/// <summary>
/// What the proxy learned about one request, kept as an <see cref="HttpContext"/> feature for the access log.
/// </summary>
internal sealed class ProxyExchange(RouteClass route)
{
    public RouteClass Route { get; } = route;

    /// <summary>When the upstream's response headers arrived (<see cref="Stopwatch"/> ticks), or 0 if they never did.</summary>
    public long UpstreamHeadersTimestamp { get; private set; }

    public void MarkUpstreamHeaders() => UpstreamHeadersTimestamp = Stopwatch.GetTimestamp();
}
