namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// The client's upgraded connection as YARP's tunnel sees it. YARP still does the relaying (it reads what the client
/// sends and writes it upstream, and writes here what the upstream sends); this wrapper lets every byte through as
/// it comes, unbuffered, and on the way follows the frames of both directions (<see cref="RelayFromClient"/>,
/// <see cref="RelayToClient"/>) to count them, read close codes, notice a client that vanished, and, when the instance
/// stops or ends the session, put its close frame (1001 for a stop) between two frames of each direction, and its pings
/// (<see cref="WebSocketPings"/>) likewise. Steady state allocates nothing per read or write.
/// </summary>
internal sealed class WebSocketRelayStream : Stream
{
    private readonly Stream _client;
    private readonly WebSocketSession _session;

    // Cancelled by RequestClose; it also wakes a read that waits for a silent client, so the close can go upstream now.
    private readonly CancellationTokenSource _closing = new();
    private readonly RelayFromClient _fromClient;
    private readonly RelayToClient _toClient;

    public WebSocketRelayStream(Stream client, WebSocketSession session)
    {
        _client = client;
        _session = session;
        // The client's pongs to the proxy's pings are taken out before anything follows its frames.
        var fromClient = session.Pings is { } pings ? new OwnPongReader(client, pings.Payload) : client;
        _fromClient = new RelayFromClient(fromClient, session, _closing.Token);
        _toClient = new RelayToClient(client, session, _closing.Token);
    }

    /// <summary>
    /// Starts the proxy's close: the session's close frame to each side at its next frame boundary (right away where no
    /// frame is under way), after which nothing more is relayed. Returns without waiting.
    /// </summary>
    public void RequestClose()
    {
        if (_closing.IsCancellationRequested)
        {
            return;
        }

        _session.NoteClosedBy(ClosedBy.Proxy);
        _closing.Cancel();
        _ = _toClient.CloseIfIdleAsync();
    }

    /// <summary>Sends the client the proxy's ping now, if no frame is under way (<see cref="WebSocketPings"/>).</summary>
    public Task PingClientAsync(byte[] ping) => _toClient.PingAsync(ping);

    /// <summary>Has the proxy's ping go to the upstream at the client's next frame boundary (<see cref="WebSocketPings"/>).</summary>
    public void PingUpstream() => _fromClient.PingUpstream();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => _fromClient.ReadAsync(buffer, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => _toClient.WriteAsync(buffer, cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken) => _client.FlushAsync(cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _fromClient.Dispose();
            _client.Dispose();
        }

        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync()
    {
        _fromClient.Dispose();
        return _client.DisposeAsync();
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // YARP only uses the asynchronous members.
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override void Flush() => _client.Flush();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
