using System.Runtime.CompilerServices;

namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// The upstream-to-client direction of a relayed WebSocket: YARP writes here what the upstream sent. Follows the
/// upstream's frames, and when the proxy closes, sends the client a close frame at the end of the frame under way
/// (right away when none is) and nothing after it. When the proxy pings (<see cref="WebSocketPings"/>), its pings to the
/// client go between two frames, and the upstream's pongs to its own pings go no further. Like reads, the usual write
/// needs no state machine.
/// </summary>
internal sealed class RelayToClient(Stream client, WebSocketSession session, CancellationToken closing)
{
    // Writes come from YARP's copy loop, and from CloseIfIdleAsync and PingAsync; one at a time.
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly bool _pinging = session.Pings is not null;
    private FrameTracker _frames = new(session.Usage);
    private OwnPongs _pongs = new(session.Pings?.Payload ?? []);
    private bool _closeSent;

    private bool Closing => closing.IsCancellationRequested;

    public ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        if (!_pinging)
        {
            return RelayAsync(buffer, cancellationToken);
        }

        // Only YARP's copy loop writes here, one write at a time: the pong filter needs no lock.
        var looked = _pongs.Next(buffer.Span, out var pass);
        return pass && looked == buffer.Length
            ? RelayAsync(buffer, cancellationToken)
            : RelayWithoutOwnPongsAsync(buffer, looked, pass, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RelayWithoutOwnPongsAsync(ReadOnlyMemory<byte> buffer, int looked, bool pass, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (pass)
            {
                await RelayAsync(buffer[..looked], cancellationToken).ConfigureAwait(false);
            }
            else if (!_pongs.Released.IsEmpty)
            {
                await RelayAsync(_pongs.Released, cancellationToken).ConfigureAwait(false);
            }

            buffer = buffer[looked..];
            if (buffer.IsEmpty)
            {
                return;
            }

            looked = _pongs.Next(buffer.Span, out pass);
        }
    }

    private ValueTask RelayAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        if (Closing || !_writeLock.Wait(0))
        {
            return WriteWhileClosingAsync(buffer, cancellationToken);
        }

        ValueTask writing;
        try
        {
            _frames.Advance(buffer.Span, stopAtBoundary: false);
            session.NoteCloseFrame(ClosedBy.Upstream, _frames.CloseCode);
            writing = client.WriteAsync(buffer, cancellationToken);
        }
        catch
        {
            _writeLock.Release();
            throw;
        }

        if (!writing.IsCompletedSuccessfully)
        {
            return FinishWriteAsync(writing, buffer.Length);
        }

        writing.GetAwaiter().GetResult();
        session.RelayedToClient(buffer.Length);
        _writeLock.Release();
        return default;
    }

    /// <summary>Sends the client the proxy's close now if no frame is under way; otherwise the next write does.</summary>
    public Task CloseIfIdleAsync() => SendIfIdleAsync(ping: null);

    /// <summary>Sends the client the proxy's ping if no frame is under way and the proxy is not closing; else nothing.</summary>
    public Task PingAsync(byte[] ping) => SendIfIdleAsync(ping);

    private async Task SendIfIdleAsync(byte[]? ping)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_closeSent || !_frames.AtBoundary)
            {
                return;
            }

            if (ping is null)
            {
                await SendCloseAsync(CancellationToken.None).ConfigureAwait(false);
            }
            else if (!Closing)
            {
                // Not counted in the access line's bytes: the upstream did not send it.
                await client.WriteAsync(ping).ConfigureAwait(false);
                await client.FlushAsync().ConfigureAwait(false);
            }
        }
        catch (Exception exception)
            when (exception is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // The client is gone already (Kestrel reports an aborted connection as a cancellation); the relay ends on its own.
        }
        finally
        {
            _writeLock.Release();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FinishWriteAsync(ValueTask writing, int length)
    {
        try
        {
            await writing.ConfigureAwait(false);
            session.RelayedToClient(length);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    // Closing (or the proxy's close being written): relay up to the end of the frame under way, then the close.
    private async ValueTask WriteWhileClosingAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Once the client has the proxy's close, what the upstream still sends (its answer to ours) goes no further.
            var relayed = _frames.Advance(buffer.Span, stopAtBoundary: Closing && !_closeSent);
            session.NoteCloseFrame(ClosedBy.Upstream, _frames.CloseCode);
            if (_closeSent)
            {
                return;
            }

            if (relayed > 0)
            {
                await client.WriteAsync(buffer[..relayed], cancellationToken).ConfigureAwait(false);
                session.RelayedToClient(relayed);
            }

            if (Closing && _frames.AtBoundary)
            {
                await SendCloseAsync(cancellationToken).ConfigureAwait(false);

                // What follows the boundary goes no further, but it is still followed: the upstream may have answered the
                // proxy's close already (that close went up at the client side's boundary), and its code belongs in the log.
                if (relayed < buffer.Length)
                {
                    _frames.Advance(buffer.Span[relayed..], stopAtBoundary: false);
                    session.NoteCloseFrame(ClosedBy.Upstream, _frames.CloseCode);
                }
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask SendCloseAsync(CancellationToken cancellationToken)
    {
        _closeSent = true;
        var frame = session.ProxyClose.ToClient;
        await client.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        await client.FlushAsync(cancellationToken).ConfigureAwait(false);
        session.RelayedToClient(frame.Length);
        session.NoteClientCloseSent();
    }
}
