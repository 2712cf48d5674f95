using System.Runtime.CompilerServices;

namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// The client-to-upstream direction of a relayed WebSocket: YARP reads here what it then writes upstream. Follows the
/// client's frames, notices a client that vanished, and when the proxy closes, hands YARP a close frame for the
/// upstream at the end of the frame under way. The usual read completes without an await of ours (so without a state
/// machine); one that waits resumes in a pooled one.
/// </summary>
internal sealed class RelayFromClient(Stream client, WebSocketSession session, CancellationToken closing) : IDisposable
{
    private FrameTracker _frames;
    private CancellationTokenSource? _readCancellation;
    private CancellationToken _readCancellationFor;
    private byte[]? _close;
    private bool _ended;
    private bool _closeHandedOver;

    private bool Closing => closing.IsCancellationRequested;

    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (Closing || _ended)
        {
            return ReadWhileClosingAsync(buffer, cancellationToken);
        }

        var reading = client.ReadAsync(buffer, ReadCancellation(cancellationToken));
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
            return await ReadWhileClosingAsync(buffer, cancellationToken).ConfigureAwait(false); // woken by the close
        }

        return Received(buffer, read);
    }

    // Closing: the rest of the client's frame under way, then the close for the upstream, then nothing.
    private async ValueTask<int> ReadWhileClosingAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_close is not null)
        {
            return HandOverClose(buffer);
        }

        if (_ended)
        {
            // After the proxy's close, this direction ends only once the upstream's answer has passed the other way:
            // YARP stops relaying both directions when one ends, and the upstream's close frame would be cut off. The
            // session's grace period (its abort cancels this wait) bounds an upstream that never answers.
            if (_closeHandedOver)
            {
                await session.UpstreamClosed.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            return 0;
        }

        if (_frames.AtBoundary)
        {
            _close = session.ProxyClose.ToUpstream();
            return HandOverClose(buffer);
        }

        // The close no longer interrupts this read: only the grace period ends a client stalled in the middle of a frame.
        return Received(buffer, await client.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));
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
            _ended = true;
            session.NoteClosedBy(ClosedBy.ClientGone);
            session.Abort();
            return 0;
        }

        // Closing (it may have begun while this read waited): relay up to the end of the frame under way; the rest
        // goes nowhere.
        var relayed = _frames.Advance(buffer.Span[..read], stopAtBoundary: Closing);
        session.NoteCloseFrame(ClosedBy.Client, _frames.CloseCode);
        if (relayed == 0)
        {
            _close = session.ProxyClose.ToUpstream();
            return HandOverClose(buffer);
        }

        session.BytesFromClient += relayed;
        return relayed;
    }

    private int HandOverClose(Memory<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0; // a zero-byte read: "data is ready"; the next read gets it
        }

        var close = _close!;
        close.CopyTo(buffer); // a few dozen bytes; YARP reads with a 64 KB buffer
        _close = null;
        _ended = true; // after the close, the upstream hears nothing more from this client
        _closeHandedOver = true;
        session.BytesFromClient += close.Length;
        return close.Length;
    }

    // YARP passes the same token to every read of a session; link it with the close once.
    private CancellationToken ReadCancellation(CancellationToken cancellationToken)
    {
        if (_readCancellation is null || _readCancellationFor != cancellationToken)
        {
            _readCancellation?.Dispose();
            _readCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, closing);
            _readCancellationFor = cancellationToken;
        }

        return _readCancellation.Token;
    }

    public void Dispose() => _readCancellation?.Dispose();
}
