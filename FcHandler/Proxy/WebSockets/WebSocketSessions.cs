using System.Collections.Concurrent;

namespace FcHandler.Proxy.WebSockets;

/// <summary>The WebSockets open on this instance, so the pre-stop hook can close them.</summary>
internal sealed class WebSocketSessions
{
    /// <summary>
    /// How long a close started by the proxy may take before the relay is ended anyway: the close frames and their
    /// answers cross in milliseconds, unless a peer is stuck in the middle of a frame or gone.
    /// </summary>
    public static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(2);

    /// <summary>How long the pre-stop hook waits for closed WebSockets to end: the grace, and a second for the relays to wind up.</summary>
    public static readonly TimeSpan CloseWait = CloseGrace + TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<WebSocketSession, byte> _open = new();

    public int Count => _open.Count;

    public void Add(WebSocketSession session) => _open.TryAdd(session, 0);

    public void Remove(WebSocketSession session) => _open.TryRemove(session, out _);

    /// <summary>Closes every open WebSocket with 1001 (<see cref="WebSocketSession.Close"/>); returns without waiting.</summary>
    /// <returns>How many were open.</returns>
    public int CloseAll()
    {
        var closing = 0;
        foreach (var session in _open.Keys)
        {
            session.Close(CloseGrace);
            closing++;
        }

        return closing;
    }
}
