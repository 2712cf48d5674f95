using FcHandler.Access;
using FcHandler.Errors;
using FcHandler.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// Forwards a WebSocket handshake and, once the upstream accepts it, relays the connection until either side closes
/// it. YARP does both (it sends the upgrade upstream, answers the client's with the upstream's 101 and copies the
/// bytes both ways); this adds the session the relay is watched and closed through, and its own forwarding policy.
/// </summary>
internal sealed class WebSocketForwarder(
    IHttpForwarder forwarder,
    UpstreamClient upstream,
    ProxyTransformer transformer,
    WebSocketSessions sessions,
    ProxyOptions options,
    TimeProvider time,
    ILogger<WebSocketForwarder> logger)
{
    /// <summary>Whether the request asks for a WebSocket, by YARP's own test (<c>Upgrade: websocket</c>).</summary>
    public static bool IsRequested(HttpRequest request)
        => request.Headers.Upgrade.Count == 1
            && string.Equals(request.Headers.Upgrade[0], "websocket", StringComparison.OrdinalIgnoreCase);

    /// <summary>The WebSocket routes whose responses the relay can meter: the Realtime API's, and the Responses API's WebSocket mode.</summary>
    public static bool IsMetered(PathString path) => path == RealtimePath || path == ResponsesPath;

    private static readonly PathString RealtimePath = "/v1/realtime";
    private static readonly PathString ResponsesPath = "/v1/responses";

    // Only a session a model scope or a limit applies to has its messages read; every other one is relayed unread.
    private ClientMessageGate? GateFor(HttpContext context, ProxyExchange? exchange)
    {
        var scope = context.Features.Get<AccessGrant>() is { HasModelScope: true } grant ? grant : null;
        var responses = exchange?.SessionResponses;
        return scope is null && responses is null
            ? null
            : new ClientMessageGate(
                scope is null ? null : scope.AllowsModel, context.Request.Path == ResponsesPath, responses, exchange, logger, context.TraceIdentifier);
    }

    /// <returns>YARP's error if the handshake failed; once upgraded, how the relay ended is the access line's to say.</returns>
    public async ValueTask<ForwarderError> ForwardAsync(HttpContext context)
    {
        // Event mode (no connection to upgrade) or a request without "Connection: Upgrade": forwarded as a plain GET it
        // would only get a confusing answer from the upstream.
        if (context.Features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true } upgrade)
        {
            await ErrorWriter.WriteAsync(context, ProxyError.UpgradeNotSupported());
            return ForwarderError.None;
        }

        var exchange = context.Features.Get<ProxyExchange>();
        using var session = new WebSocketSession(upstream.HandshakeTimeout)
        {
            Gate = GateFor(context, exchange),
            Pings = options.WebSocketPing > TimeSpan.Zero ? new WebSocketPings(options.WebSocketPing, time) : null,
        };
        exchange?.WebSocket = session;
        session.Usage.Responses = exchange?.SessionResponses;
        context.Features.Set<IHttpUpgradeFeature>(new RelayUpgradeFeature(upgrade, session, sessions));
        try
        {
            var error = await forwarder.SendAsync(
                context, upstream.DestinationPrefix, upstream.Invoker, upstream.WebSocket, transformer, session.Aborted);
            if (session.Relay is null)
            {
                return error;
            }

            // Without a close frame from either side, whoever left did not say goodbye: the side whose connection failed,
            // else the upstream, which ended the relay by ending its connection.
            var clientLeft = error is ForwarderError.UpgradeRequestClient or ForwarderError.UpgradeResponseClient
                || context.RequestAborted.IsCancellationRequested;
            session.NoteClosedBy(clientLeft ? ClosedBy.ClientGone : ClosedBy.UpstreamGone);
            return ForwarderError.None;
        }
        finally
        {
            sessions.Remove(session);
        }
    }
}
