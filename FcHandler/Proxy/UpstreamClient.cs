using System.Net;
using System.Net.Security;
using FcHandler.Hosting;
using FcHandler.Keys;
using Yarp.ReverseProxy.Forwarder;

namespace FcHandler.Proxy;

/// <summary>
/// The one connection pool to the upstream, and the forwarding policy of each route class. Built once: a warm FC
/// instance reuses its pooled connections (and their TLS sessions) across invocations.
/// </summary>
internal sealed class UpstreamClient : IDisposable
{
    /// <param name="options">The upstream and its timeouts.</param>
    /// <param name="resolver">Tests only: where new connections go (see <see cref="UpstreamResolver"/>).</param>
    /// <param name="keys">The server's keys, in server-key mode: each request goes through the pool's failover first.</param>
    public UpstreamClient(ProxyOptions options, UpstreamResolver? resolver = null, KeyPool? keys = null)
    {
        DestinationPrefix = options.DestinationPrefix;
        // The pool, behind the step that opens its connections and shares a failed attempt with all who wait for one.
        var connections = new UpstreamConnections(resolver);
        var handler = CreateHandler(options);
        handler.ConnectCallback = connections.ConnectAsync;
        connections.InnerHandler = handler;
        Invoker = new HttpMessageInvoker(keys is null ? connections : new KeyPoolHandler(keys) { InnerHandler = connections }, disposeHandler: true);
        Generation = CreateConfig(options.GenerationTimeout);
        PassThrough = CreateConfig(options.DefaultTimeout);
        HandshakeTimeout = options.DefaultTimeout;
    }

    /// <summary>The upstream base URL, without a trailing slash; YARP appends the request's path and query.</summary>
    public string DestinationPrefix { get; }

    public HttpMessageInvoker Invoker { get; }

    public ForwarderRequestConfig Generation { get; }

    public ForwarderRequestConfig PassThrough { get; }

    /// <summary>
    /// WebSockets. HTTP/1.1, the upgrade OpenAI documents: with our HTTP/2 preference YARP would first try RFC 8441
    /// WebSockets over HTTP/2 to an https upstream and fall back to HTTP/1.1 when it is not offered, a wasted round
    /// trip per session. No idle timeout: a voice session may be silent for minutes, and a proxy must not cut a call
    /// in progress; FC's function timeout bounds a session instead (template.yml). The handshake is bounded by
    /// <see cref="HandshakeTimeout"/>.
    /// </summary>
    public ForwarderRequestConfig WebSocket { get; } = new()
    {
        ActivityTimeout = Timeout.InfiniteTimeSpan,
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        AllowResponseBuffering = false,
    };

    /// <summary>How long the upstream may take to accept a WebSocket: the default route timeout.</summary>
    public TimeSpan HandshakeTimeout { get; }

    /// <summary>The policy of a plain HTTP request; the Realtime API's HTTP endpoints (client secrets, calls) are quick.</summary>
    public ForwarderRequestConfig ConfigFor(RouteClass route) => route == RouteClass.Generation ? Generation : PassThrough;

    /// <summary>The handler settings of YARP's direct-forwarding sample, each for a reason given beside it.</summary>
    internal static SocketsHttpHandler CreateHandler(ProxyOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false, // an HTTP(S)_PROXY in the environment must not reroute traffic meant for the fixed upstream
            AllowAutoRedirect = false, // a redirect is the client's to follow, and could point at another host
            AutomaticDecompression = DecompressionMethods.None, // bodies pass through encoded, never re-encoded
            UseCookies = false, // the upstream's cookies are not ours to keep or send
            EnableMultipleHttp2Connections = true, // many concurrent streams on one instance
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5), // follow DNS changes of the upstream host
            // No traceparent/tracestate: the upstream sees nothing about the client or this proxy's tracing.
            ActivityHeadersPropagator = null,
        };

        // A refused certificate is named (expired, wrong host, untrusted), and UPSTREAM_CA_FILE replaces the roots.
        CertificateCheck(options).ApplyTo(handler.SslOptions);
        return handler;
    }

    /// <summary>The upstream's certificate check, as every TLS connection to the upstream makes it.</summary>
    internal static UpstreamCertificateCheck CertificateCheck(ProxyOptions options)
        => new(options.UpstreamBaseUrl.IdnHost, options.UpstreamTrustAnchors);

    private static ForwarderRequestConfig CreateConfig(TimeSpan idleTimeout) => new()
    {
        ActivityTimeout = idleTimeout,
        // HTTP/2 to an https upstream when it offers it, HTTP/1.1 otherwise.
        Version = HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        // Never buffer: server-sent events must reach the client as the upstream writes them.
        AllowResponseBuffering = false,
    };

    public void Dispose() => Invoker.Dispose();
}
