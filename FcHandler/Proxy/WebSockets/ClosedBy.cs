namespace FcHandler.Proxy.WebSockets;

/// <summary>Who ended a relayed WebSocket, as the access line names it.</summary>
internal enum ClosedBy
{
    /// <summary>Still open, or the handshake never completed.</summary>
    None,

    /// <summary>The client sent the first close frame.</summary>
    Client,

    /// <summary>The upstream sent the first close frame.</summary>
    Upstream,

    /// <summary>The proxy closed both sides with 1001 because the instance is stopping.</summary>
    Proxy,

    /// <summary>The client's connection ended without a close frame.</summary>
    ClientGone,

    /// <summary>The upstream's connection ended without a close frame.</summary>
    UpstreamGone,
}
