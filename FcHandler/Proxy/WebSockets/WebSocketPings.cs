using System.Security.Cryptography;

namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// Keeps a quiet relayed WebSocket open across NATs and idle timeouts (<c>WEBSOCKET_PING</c>): after that long without a
/// frame toward one side, the proxy sends that side a ping, at a frame boundary (RFC 6455 section 5.4 lets a control
/// frame go between the frames of a message, never inside a frame), and keeps the pong that answers it
/// (<see cref="OwnPongs"/>). FC's WebSocket guide advises pings for idle connections, which middleboxes such as NAT drop
/// (https://help.aliyun.com/document_detail/424823.html). Pings from the client or the upstream pass as any frame.
/// <para>
/// Pings are the proxy's: they are not counted in the access line's bytes, and neither the scopes and limits nor the
/// usage reader ever see them. The timer lives only as long as the session, which is a request in flight, so FC does not
/// freeze the instance under it.
/// </para>
/// </summary>
internal sealed class WebSocketPings : IDisposable
{
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private ITimer? _timer;
    private WebSocketRelayStream? _relay;
    private long _lastToClient;
    private long _lastToUpstream;
    private bool _stopped;

    /// <param name="interval">The longest silence in one direction before a ping; more than zero.</param>
    /// <param name="time">The clock.</param>
    public WebSocketPings(TimeSpan interval, TimeProvider time)
    {
        _interval = interval;
        _time = time;
        RandomNumberGenerator.Fill(Payload);
        ToClient = ControlFrames.ToClient(ControlFrames.Ping, Payload);
    }

    /// <summary>The payload of this session's pings, random so that a peer's own ping is never taken for one.</summary>
    public byte[] Payload { get; } = new byte[8];

    /// <summary>A ping to the client: unmasked, the same bytes every time.</summary>
    public byte[] ToClient { get; }

    /// <summary>A ping to the upstream: masked with a fresh key, as a client's frames are (section 5.3).</summary>
    public byte[] ToUpstream() => ControlFrames.ToUpstream(ControlFrames.Ping, Payload);

    /// <summary>Something went to the client: its silence starts again.</summary>
    public void SentToClient() => Volatile.Write(ref _lastToClient, _time.GetTimestamp());

    /// <summary>Something went to the upstream: its silence starts again.</summary>
    public void SentToUpstream() => Volatile.Write(ref _lastToUpstream, _time.GetTimestamp());

    /// <summary>The relay is up: the silences start now.</summary>
    public void Start(WebSocketRelayStream relay)
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _relay = relay;
            SentToClient();
            SentToUpstream();
            _timer = _time.CreateTimer(static state => ((WebSocketPings)state!).Tick(), this, _interval, Timeout.InfiniteTimeSpan);
        }
    }

    private void Tick()
    {
        WebSocketRelayStream relay;
        bool pingClient, pingUpstream;
        lock (_lock)
        {
            if (_stopped || _relay is null)
            {
                return;
            }

            // A ping that cannot go yet (a frame under way, a client read that must first end) counts as sent: the next
            // one is due an interval later, never in a loop.
            relay = _relay;
            pingClient = Due(ref _lastToClient);
            pingUpstream = Due(ref _lastToUpstream);
            var quiet = Math.Max(Quiet(Volatile.Read(ref _lastToClient)), Quiet(Volatile.Read(ref _lastToUpstream)));
            _timer!.Change(_interval - TimeSpan.FromTicks(Math.Clamp(quiet, 0, _interval.Ticks - 1)), Timeout.InfiniteTimeSpan);
        }

        // Outside the lock: waking the client's read may run the relay on this thread.
        if (pingClient)
        {
            _ = relay.PingClientAsync(ToClient);
        }

        if (pingUpstream)
        {
            relay.PingUpstream();
        }
    }

    private bool Due(ref long last)
    {
        if (Quiet(Volatile.Read(ref last)) < _interval.Ticks)
        {
            return false;
        }

        Volatile.Write(ref last, _time.GetTimestamp());
        return true;
    }

    private long Quiet(long last) => _time.GetElapsedTime(last).Ticks;

    /// <summary>The session is over, or closing: no ping after this, and the timer is gone.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _stopped = true;
            _timer?.Dispose();
            _relay = null;
        }
    }
}
