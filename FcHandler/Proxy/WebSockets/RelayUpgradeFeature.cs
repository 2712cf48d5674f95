using Microsoft.AspNetCore.Http.Features;

namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// Kestrel's upgrade feature, as YARP finds it when the upstream answers 101: the same upgrade, but the connection it
/// returns is wrapped in the session's <see cref="WebSocketRelayStream"/>, so YARP's own tunnel relays through it.
/// </summary>
internal sealed class RelayUpgradeFeature(IHttpUpgradeFeature inner, WebSocketSession session, WebSocketSessions sessions) : IHttpUpgradeFeature
{
    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync()
    {
        var relay = session.Attach(await inner.UpgradeAsync().ConfigureAwait(false));
        sessions.Add(session);
        return relay;
    }
}
