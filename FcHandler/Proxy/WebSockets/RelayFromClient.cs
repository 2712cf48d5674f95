using System.Runtime.CompilerServices;

namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// The client-to-upstream direction of a relayed WebSocket: YARP reads here what it then writes upstream. Follows the
/// client's frames, notices a client that vanished, and when the proxy closes, hands YARP a close frame for the
/// upstream at the end of the frame under way. The usual read completes without an await of ours (so without a state
/// machine); one that waits resumes in a pooled one.
/// <para>
/// With a <see cref="ClientMessageGate"/> (a session a model scope or a limit applies to), each message is read as it
/// passes, and its last byte is held back: the read returns the bytes before it and keeps the rest, the gate decides
/// (its answer may wait for the limits store), and only then does the next read release that byte, so the upstream
/// never has a message whole before it is allowed. A refused message is never completed: the client gets the gate's
/// 1008 close and the upstream connection is ended with the message still unfinished (a close frame cannot go up in
/// the middle of a frame). Holding the whole message instead would hold megabytes of audio; one byte is enough, as a
/// WebSocket server acts on a message only once it is whole (RFC 6455 section 6.2). Sessions without a gate pay nothing.
/// </para>
/// <para>
/// When the proxy pings (<see cref="WebSocketPings"/>), a ping due to the upstream wakes the read that waits for a silent
/// client, and the read hands YARP the ping, masked, once what went up ends at a frame boundary and no message's last
/// byte is held; then the read goes on. The client's pongs to the proxy's pings never get here (<see cref="OwnPongReader"/>).
/// </para>
/// </summary>
internal sealed class RelayFromClient(Stream client, WebSocketSession session, CancellationToken closing) : IDisposable
{
    private readonly ClientMessageGate? _gate = session.Gate;
    private FrameTracker _frames = new(session.Gate, everyMessage: session.Gate is not null);
    private byte[]? _stash; // with a gate: the held byte, then what the client sent after it, not yet followed
    private int _stashStart;
    private int _stashLength;
    private bool _holding; // the stash's first byte ends a message the gate has not decided yet
    private CancellationTokenSource? _readCancellation;
    private CancellationToken _readCancellationFor;
    private byte[]? _close;
    private bool _ended;
    private bool _closeHandedOver;
    private volatile bool _pingDue;
    private CancellationTokenSource _pingWake = new(); // cancelled to wake the read for a ping; replaced once it has

    private bool Closing => closing.IsCancellationRequested;

    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_holding && !_ended)
        {
            return ReleaseAsync(buffer);
        }

        if (Closing || _ended)
        {
            return ReadWhileClosingAsync(buffer, cancellationToken);
        }

        if (_pingDue && _frames.AtBoundary)
        {
            return new ValueTask<int>(HandOverPing(buffer));
        }

        if (_stashLength > 0)
        {
            return FromStash(buffer);
        }

        var reading = client.ReadAsync(buffer, ReadCancellation(cancellationToken));
        return reading.IsCompletedSuccessfully
            ? Relay(buffer, Received(buffer, reading.Result))
            : ReceiveAsync(reading, buffer, cancellationToken);
    }

    // A message's end held back with nothing before it to relay: the read goes straight on to the decision.
    private ValueTask<int> Relay(Memory<byte> buffer, int relayed) => relayed < 0 ? ReleaseAsync(buffer) : new ValueTask<int>(relayed);

    // Bytes the client sent after a held message's end, followed now (they may end another message).
    private ValueTask<int> FromStash(Memory<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return new ValueTask<int>(0); // a zero-byte read: data is ready
        }

        var count = Math.Min(buffer.Length, _stashLength);
        _stash.AsSpan(_stashStart, count).CopyTo(buffer.Span);
        (_stashStart, _stashLength) = (_stashStart + count, _stashLength - count);
        return Relay(buffer, Received(buffer, count, fromStash: true));
    }

    // The gate decides the held message: its last byte goes up, or the session ends with the message unfinished.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReleaseAsync(Memory<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0; // a zero-byte read: data is ready
        }

        if (await _gate!.DecideAsync().ConfigureAwait(false) is { } refusal)
        {
            await RefuseAsync(refusal).ConfigureAwait(false);
            return 0;
        }

        buffer.Span[0] = _stash![_stashStart];
        (_stashStart, _stashLength, _holding) = (_stashStart + 1, _stashLength - 1, false);
        session.RelayedFromClient(1);
        return 1;
    }

    private async Task RefuseAsync(CloseFrame refusal)
    {
        _ended = true;
        _stashLength = 0;
        session.Close(WebSocketSessions.CloseGrace, refusal);
        try
        {
            // The client hears why once the upstream's frame under way has passed; then the upstream's connection ends.
            await session.ClientCloseSent.WaitAsync(WebSocketSessions.CloseGrace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The grace ends the relay anyway.
        }

        session.Abort();
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
        catch (OperationCanceledException) when (_pingDue && !cancellationToken.IsCancellationRequested)
        {
            return await ReadAsync(buffer, cancellationToken).ConfigureAwait(false); // woken for a ping
        }

        return await Relay(buffer, Received(buffer, read)).ConfigureAwait(false);
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
        return _stashLength > 0
            ? await FromStash(buffer).ConfigureAwait(false)
            : await Relay(buffer, Received(buffer, await client.ReadAsync(buffer, cancellationToken).ConfigureAwait(false))).ConfigureAwait(false);
    }

    /// <returns>The bytes to relay, or -1 when a message's last byte is held back with nothing before it.</returns>
    private int Received(Memory<byte> buffer, int read, bool fromStash = false)
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

        if (_frames.MessageEnded)
        {
            Hold(buffer.Span[(relayed - 1)..read], fromStash);
            relayed--;
            if (relayed == 0)
            {
                return -1;
            }
        }

        session.RelayedFromClient(relayed);
        return relayed;
    }

    // Keeps a message's last byte and what came after it until the gate has decided.
    private void Hold(ReadOnlySpan<byte> rest, bool fromStash)
    {
        _holding = true;
        if (fromStash)
        {
            // Still in the stash, right before what is left of it: give them back.
            (_stashStart, _stashLength) = (_stashStart - rest.Length, _stashLength + rest.Length);
            return;
        }

        if (_stash is null || _stash.Length < rest.Length)
        {
            _stash = new byte[Math.Max(rest.Length, 16 * 1024)];
        }

        rest.CopyTo(_stash);
        (_stashStart, _stashLength) = (0, rest.Length);
    }

    /// <summary>A ping is due to the upstream: the read that waits for the client wakes, and hands it over at a boundary.</summary>
    public void PingUpstream()
    {
        _pingDue = true;
        Volatile.Read(ref _pingWake).Cancel();
    }

    private int HandOverPing(Memory<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0; // a zero-byte read: "data is ready"; the next read gets it
        }

        // Not counted in the access line's bytes, and never seen by the gate: the client did not send it.
        var ping = session.Pings!.ToUpstream();
        ping.CopyTo(buffer);
        _pingDue = false;
        session.Pings.SentToUpstream();
        return ping.Length;
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
        session.RelayedFromClient(close.Length);
        return close.Length;
    }

    // YARP passes the same token to every read of a session; link it with the close once, and with a ping's wake until
    // one has woken a read.
    private CancellationToken ReadCancellation(CancellationToken cancellationToken)
    {
        if (_readCancellation is null || _readCancellationFor != cancellationToken || _pingWake.IsCancellationRequested)
        {
            if (_pingWake.IsCancellationRequested)
            {
                Volatile.Write(ref _pingWake, new CancellationTokenSource());
            }

            _readCancellation?.Dispose();
            _readCancellation = session.Pings is null
                ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, closing)
                : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, closing, _pingWake.Token);
            _readCancellationFor = cancellationToken;
        }

        return _readCancellation.Token;
    }

    public void Dispose() => _readCancellation?.Dispose();
}
