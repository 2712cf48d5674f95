namespace FcHandler.Proxy;

/// <summary>How the proxy treats a request path. See <see cref="RouteTable"/>.</summary>
internal enum RouteClass
{
    /// <summary>Not a path the proxy serves: answered 404 locally, nothing forwarded.</summary>
    Rejected,

    /// <summary>Model output: streamable, long-running, large bodies. Forwarded with the generation timeout.</summary>
    Generation,

    /// <summary>Any other OpenAI API path. Forwarded with the default timeout.</summary>
    PassThrough,

    /// <summary>
    /// The Realtime API: its WebSocket (<c>GET /v1/realtime</c> with <c>Upgrade: websocket</c>), relayed with no idle
    /// timeout, and its HTTP endpoints (client secrets, WebRTC calls), forwarded with the default timeout. A class of its
    /// own so a token can be granted chat without voice sessions and the ephemeral keys that open them.
    /// </summary>
    Realtime,

    /// <summary>The health endpoint, answered locally.</summary>
    Health,
}
