using FcHandler.Usage;

namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// One relayed WebSocket: the handle the forwarder is cancelled by, the relay stream once the upstream has accepted the
/// upgrade, and what the access line reports when it ends (bytes each way, close codes, who closed).
/// </summary>
internal sealed class WebSocketSession : IDisposable
{
    private readonly CancellationTokenSource _abort = new();
    private readonly TaskCompletionSource _upstreamClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _clientCloseSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _closedBy;
    private CloseFrame? _proxyClose;

    /// <param name="handshakeTimeout">How long the upstream may take to accept the upgrade; the tunnel itself has no idle timeout.</param>
    public WebSocketSession(TimeSpan handshakeTimeout) => _abort.CancelAfter(handshakeTimeout);

    /// <summary>Given to the forwarder: cancelling it ends the handshake or the relay at once, both sides.</summary>
    public CancellationToken Aborted => _abort.Token;

    /// <summary>The relay, once the upstream answered 101 and the client's connection was upgraded.</summary>
    public WebSocketRelayStream? Relay { get; private set; }

    /// <summary>Frame bytes the client sent, relayed to the upstream (and the proxy's own close frame, if it sent one).</summary>
    public long BytesFromClient { get; private set; }

    /// <summary>Frame bytes the upstream sent, relayed to the client (and the proxy's own close frame, if it sent one).</summary>
    public long BytesToClient { get; private set; }

    /// <summary>Pings each side after a silence toward it (<c>WEBSOCKET_PING</c>); null when off.</summary>
    public WebSocketPings? Pings { get; init; }

    /// <summary>Decides each message the client sends, where a model scope or a limit applies; null to relay them unread.</summary>
    public ClientMessageGate? Gate { get; init; }

    /// <summary>The usage the upstream reported in the events that end its responses, summed as they passed.</summary>
    public RealtimeUsage Usage { get; } = new();

    /// <summary>The code of the client's close frame; 0 if it sent none.</summary>
    public int ClientCloseCode { get; internal set; }

    /// <summary>The code of the upstream's close frame; 0 if it sent none.</summary>
    public int UpstreamCloseCode { get; internal set; }

    public ClosedBy ClosedBy => (ClosedBy)Volatile.Read(ref _closedBy);

    /// <summary>The close frame the proxy sends both sides when it ends the session: the first reason given, else 1001.</summary>
    public CloseFrame ProxyClose => Volatile.Read(ref _proxyClose) ?? CloseFrame.GoingAway;

    /// <summary>Completes when the upstream's close frame has passed through the relay.</summary>
    public Task UpstreamClosed => _upstreamClosed.Task;

    /// <summary>Completes when the proxy's own close frame has been written to the client.</summary>
    public Task ClientCloseSent => _clientCloseSent.Task;

    /// <summary>Bytes went to the upstream: counted, and that side's silence starts again.</summary>
    public void RelayedFromClient(int bytes)
    {
        BytesFromClient += bytes;
        Pings?.SentToUpstream();
    }

    /// <summary>Bytes went to the client: counted, and that side's silence starts again.</summary>
    public void RelayedToClient(int bytes)
    {
        BytesToClient += bytes;
        Pings?.SentToClient();
    }

    /// <summary>The proxy's close frame reached the client's connection.</summary>
    public void NoteClientCloseSent() => _clientCloseSent.TrySetResult();

    /// <summary>Wraps the client's upgraded connection in the relay; from now on nothing times the session out.</summary>
    public WebSocketRelayStream Attach(Stream clientStream)
    {
        _abort.CancelAfter(Timeout.InfiniteTimeSpan);
        Relay = new WebSocketRelayStream(clientStream, this);
        Pings?.Start(Relay);
        return Relay;
    }

    /// <summary>Records the code of a side's close frame (0: none yet), and the side as the first to close if it was.</summary>
    public void NoteCloseFrame(ClosedBy side, int code)
    {
        if (code == 0)
        {
            return;
        }

        if (side == ClosedBy.Client)
        {
            ClientCloseCode = code;
        }
        else
        {
            UpstreamCloseCode = code;
            _upstreamClosed.TrySetResult();
        }

        NoteClosedBy(side);
    }

    /// <summary>Records who closed first; later calls change nothing.</summary>
    public void NoteClosedBy(ClosedBy who) => Interlocked.CompareExchange(ref _closedBy, (int)who, (int)ClosedBy.None);

    /// <summary>Ends the relay at once, both sides (the client is gone, or a graceful close ran out of time).</summary>
    public void Abort() => _abort.Cancel();

    /// <summary>
    /// Closes both sides with <paramref name="frame"/> (1001 unless given) at their next frame boundary, and ends the relay
    /// after <paramref name="grace"/> whatever state the close handshakes are in. A second close changes nothing.
    /// </summary>
    public void Close(TimeSpan grace, CloseFrame? frame = null)
    {
        Interlocked.CompareExchange(ref _proxyClose, frame ?? CloseFrame.GoingAway, null);
        Pings?.Dispose(); // nothing after the close
        try
        {
            Relay?.RequestClose();
            _abort.CancelAfter(grace);
        }
        catch (ObjectDisposedException)
        {
            // It ended meanwhile.
        }
    }

    public void Dispose()
    {
        Pings?.Dispose();
        _abort.Dispose();
    }
}
