using FcHandler.Proxy;

namespace FcHandler.Hosting;

/// <summary>
/// Everything the proxy's request path needs to know, read once at start-up by <see cref="ProxyOptionsReader"/>.
/// </summary>
internal sealed class ProxyOptions
{
    /// <summary>
    /// The one upstream every request goes to (<c>UPSTREAM_BASE_URL</c>). Defaults to <c>https://api.openai.com</c>.
    /// A path prefix is kept (<c>https://host/openai</c> + <c>/v1/models</c> = <c>https://host/openai/v1/models</c>).
    /// </summary>
    public Uri UpstreamBaseUrl { get; init; } = new("https://api.openai.com");

    /// <summary>
    /// Idle timeout for generation routes (<c>GENERATION_TIMEOUT</c>): the longest the upstream may stay silent,
    /// before its response headers or between two body chunks. Defaults to 8 minutes, as in the original nginx
    /// design (<c>proxy_read_timeout 8m</c>), so slow non-streaming completions survive.
    /// </summary>
    public TimeSpan GenerationTimeout { get; init; } = TimeSpan.FromMinutes(8);

    /// <summary>Idle timeout for every other <c>/v1</c> route (<c>DEFAULT_TIMEOUT</c>). Defaults to 2 minutes.</summary>
    public TimeSpan DefaultTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The longest an event stream stays silent toward the client once its headers are known (<c>SSE_HEARTBEAT</c>):
    /// after that much silence from the upstream the proxy writes an SSE comment (<see cref="Proxy.SseHeartbeat"/>).
    /// Defaults to 15 seconds, well inside the idle timeouts of the usual fronts (nginx 60 s, Cloudflare 100 s);
    /// <see cref="TimeSpan.Zero"/> (<c>0</c> or <c>off</c>) writes none.
    /// </summary>
    public TimeSpan SseHeartbeat { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The longest a relayed WebSocket stays silent in one direction (<c>WEBSOCKET_PING</c>): after that long without a
    /// frame toward the client, or toward the upstream, the proxy sends that side a ping between two frames and keeps
    /// its pong (<see cref="Proxy.WebSockets.WebSocketPings"/>). Defaults to 30 seconds: FC's WebSocket guide advises
    /// pings because middleboxes such as NAT drop idle connections
    /// (https://help.aliyun.com/document_detail/424823.html), nginx closes a proxied WebSocket after 60 s without data
    /// unless the server pings (https://nginx.org/en/docs/http/websocket.html), and .NET's own clients ping every 30 s
    /// (<see cref="System.Net.WebSockets.WebSocket.DefaultKeepAliveInterval"/>). <see cref="TimeSpan.Zero"/>
    /// (<c>0</c> or <c>off</c>) sends none.
    /// </summary>
    public TimeSpan WebSocketPing { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed to open a TCP and TLS connection to the upstream (<c>CONNECT_TIMEOUT</c>). Defaults to 10 seconds.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Root certificates that replace the system's trusted roots for the upstream only (<c>UPSTREAM_CA_FILE</c>, a PEM
    /// file), for a gateway with a private CA, or, set by build/bootstrap on FC, the system's own bundle read lazily.
    /// Null by default: the system's roots, as .NET reads them.
    /// </summary>
    public TrustAnchors? UpstreamTrustAnchors { get; init; }

    /// <summary>
    /// Browser origins allowed by CORS (<c>CORS_ALLOWED_ORIGINS</c>, comma-separated). Empty means any origin (<c>*</c>),
    /// the default.
    /// </summary>
    public IReadOnlyList<string> CorsAllowedOrigins { get; init; } = [];

    /// <summary>
    /// Request headers to forward beyond the built-in allow-list (<c>PROXY_FORWARD_HEADERS</c>, comma-separated):
    /// names, and prefixes ending in <c>*</c>, never covering an identity or platform header. Empty by default.
    /// </summary>
    public IReadOnlyList<string> ForwardHeaders { get; init; } = [];

    /// <summary>The upstream base as YARP's destination prefix: no trailing slash.</summary>
    public string DestinationPrefix => UpstreamBaseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');
}
