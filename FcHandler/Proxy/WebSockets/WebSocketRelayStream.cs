using System.Runtime.CompilerServices;

namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// The client's upgraded connection as YARP's tunnel sees it. YARP still does the relaying (it reads what the client
/// sends and writes it upstream, and writes here what the upstream sends); this wrapper lets every byte through as
/// it comes, unbuffered, and on the way follows the frames of both directions (<see cref="FrameTracker"/>) to count
/// them, read close codes, notice a client that vanished, and, when the instance stops, put a close frame 1001 between
/// two frames of each direction. Steady state allocates nothing per read or write.
/// </summary>
internal sealed class WebSocketRelayStream : Stream
{
    private readonly Stream _client;
    private readonly WebSocketSession _session;

    // Writes come from YARP's copy loop, and once from RequestClose; one at a time.
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    // Cancelled by RequestClose to wake a read that waits for a silent client, so the close can go upstream now.
    private readonly CancellationTokenSource _closeRequested = new();
    private CancellationTokenSource? _readCancellation;
    private CancellationToken _readCancellationFor;

    private FrameTracker _fromClient;
    private FrameTracker _toClient;
    private byte[]? _closeToUpstream;
    private bool _readsEnded;
    private bool _closeSentToClient;

    public WebSocketRelayStream(Stream client, WebSocketSession session)
    {
        _client = client;
        _session = session;
    }

    private bool Closing => _closeRequested.IsCancellationRequested;

    /// <summary>
    /// Starts the proxy's close: a 1001 close frame to each side at its next frame boundary (right away where no
    /// frame is under way), after which nothing more is relayed. Returns without waiting.
    /// </summary>
    public void RequestClose()
    {
        if (Closing)
        {
            return;
        }

        _session.NoteClosedBy(ClosedBy.Proxy);
        _closeRequested.Cancel(); // a pending client read wakes up and hands YARP the close for the upstream
        _ = CloseClientIfIdleAsync();
    }

    // Client -> upstream: YARP reads here what it writes upstream. The usual read completes without an await of ours
    // (so without a state machine); one that waits resumes in a pooled one.
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Closing || _readsEnded)
        {
            return ReadWhileClosingAsync(buffer, cancellationToken);
        }

        var reading = _client.ReadAsync(buffer, ReadCancellation(cancellationToken));
        return reading.IsCompletedSuccessfully
            ? new ValueTask<int>(Received(buffer, reading.Result))
            : ReceiveAsync(reading, buffer, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReceiveAsync(ValueTask<int> reading, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int read;
        try
        {
            read = await reading.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (Closing && !cancellationToken.IsCancellationRequested)
        {
            return await ReadWhileClosingAsync(buffer, cancellationToken).ConfigureAwait(false); // woken by RequestClose
        }

        return Received(buffer, read);
    }

    // Closing: the rest of the client's frame under way, then the close for the upstream, then nothing.
    private async ValueTask<int> ReadWhileClosingAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_closeToUpstream is not null)
        {
            return HandOverClose(buffer);
        }

        if (_readsEnded)
        {
            return 0;
        }

        if (_fromClient.AtBoundary)
        {
            _closeToUpstream = CloseFrame.ToUpstream();
            return HandOverClose(buffer);
        }

        // The close request no longer interrupts this read: only the grace period ends a client stalled mid-frame.
        return Received(buffer, await _client.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));
    }

    private int Received(Memory<byte> buffer, int read)
    {
        if (buffer.IsEmpty)
        {
            return 0; // YARP's zero-byte read: data is waiting, nothing was consumed
        }

        if (read == 0)
        {
            // The client's connection ended. Whether or not it said goodbye first, nobody is left to read the
            // upstream's answer: end the upstream side now instead of waiting for the upstream to notice.
            _readsEnded = true;
            _session.NoteClosedBy(ClosedBy.ClientGone);
            _session.Abort();
            return 0;
        }

        // Closing (it may have begun while this read waited): relay up to the end of the frame under way; the rest
        // goes nowhere.
        var relayed = _fromClient.Advance(buffer.Span[..read], stopAtBoundary: Closing);
        NoteClose(_fromClient.CloseCode, ClosedBy.Client);
        if (relayed == 0)
        {
            _closeToUpstream = CloseFrame.ToUpstream();
            return HandOverClose(buffer);
        }

        _session.BytesFromClient += relayed;
        return relayed;
    }

    // Upstream -> client: YARP writes here what the upstream sent. Like reads, the usual write needs no state machine.
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Closing || !_writeLock.Wait(0))
        {
            return WriteWhileClosingAsync(buffer, cancellationToken);
        }

        ValueTask writing;
        try
        {
            _toClient.Advance(buffer.Span, stopAtBoundary: false);
            NoteClose(_toClient.CloseCode, ClosedBy.Upstream);
            writing = _client.WriteAsync(buffer, cancellationToken);
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
        _session.BytesToClient += buffer.Length;
        _writeLock.Release();
        return default;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FinishWriteAsync(ValueTask writing, int length)
    {
        try
        {
            await writing.ConfigureAwait(false);
            _session.BytesToClient += length;
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
            if (_closeSentToClient)
            {
                // The client has the proxy's close: what the upstream still sends (its answer to ours) goes no further.
                _toClient.Advance(buffer.Span, stopAtBoundary: false);
                NoteClose(_toClient.CloseCode, ClosedBy.Upstream);
                return;
            }

            var relayed = _toClient.Advance(buffer.Span, stopAtBoundary: Closing);
            NoteClose(_toClient.CloseCode, ClosedBy.Upstream);
            if (relayed > 0)
            {
                await _client.WriteAsync(buffer[..relayed], cancellationToken).ConfigureAwait(false);
                _session.BytesToClient += relayed;
            }

            if (Closing && _toClient.AtBoundary)
            {
                await SendCloseToClientAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task CloseClientIfIdleAsync()
    {
        try
        {
            await _writeLock.WaitAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            return; // the relay already ended
        }

        try
        {
            if (!_closeSentToClient && _toClient.AtBoundary)
            {
                await SendCloseToClientAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The client is gone already; the relay ends on its own.
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask SendCloseToClientAsync(CancellationToken cancellationToken)
    {
        _closeSentToClient = true;
        await _client.WriteAsync(CloseFrame.ToClient, cancellationToken).ConfigureAwait(false);
        await _client.FlushAsync(cancellationToken).ConfigureAwait(false);
        _session.BytesToClient += CloseFrame.ToClient.Length;
    }

    private int HandOverClose(Memory<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0; // a zero-byte read: "data is ready"; the next read gets it
        }

        var close = _closeToUpstream!;
        close.CopyTo(buffer); // 42 bytes; YARP reads with a 64 KB buffer
        _closeToUpstream = null;
        _readsEnded = true; // after the close, the upstream hears nothing more from this client
        _session.BytesFromClient += close.Length;
        return close.Length;
    }

    private void NoteClose(int code, ClosedBy side)
    {
        if (code == 0)
        {
            return;
        }

        if (side == ClosedBy.Client)
        {
            _session.ClientCloseCode = code;
        }
        else
        {
            _session.UpstreamCloseCode = code;
        }

        _session.NoteClosedBy(side);
    }

    // YARP passes the same token to every read of a session; link it with the close request once.
    private CancellationToken ReadCancellation(CancellationToken cancellationToken)
    {
        if (_readCancellation is null || _readCancellationFor != cancellationToken)
        {
            _readCancellation?.Dispose();
            _readCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closeRequested.Token);
            _readCancellationFor = cancellationToken;
        }

        return _readCancellation.Token;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _readCancellation?.Dispose();
            _client.Dispose();
        }

        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync()
    {
        _readCancellation?.Dispose();
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

    public override Task FlushAsync(CancellationToken cancellationToken) => _client.FlushAsync(cancellationToken);

    // YARP only uses the asynchronous members.
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override void Flush() => _client.Flush();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
