namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// Finds, in one direction's bytes, the pongs that answer the proxy's own pings (<see cref="WebSocketPings"/>), so that
/// they go no further: the other side never pinged, and RFC 6455 section 5.5.3 has a pong echo its ping's payload, which
/// is how the proxy's are told apart (a per-session random one). Everything else passes as it came, in order: a pong
/// frame is held (at most 131 bytes) only until it is whole, and one that turns out not to be the proxy's is
/// <see cref="Released"/> unchanged. Frames are followed by length as <see cref="FrameTracker"/> does, so a pong is only
/// ever looked for where a frame starts, never in a payload.
/// </summary>
/// <param name="payload">The payload of the proxy's pings.</param>
internal struct OwnPongs(byte[] payload)
{
    private const int MaxControlFrame = 2 + 4 + 125;

    private FrameTracker _frames = new(null);
    private byte[]? _held;
    private int _heldLength;
    private bool _catching;

    /// <summary>After <see cref="Next"/> took bytes: a whole pong that was not the proxy's, to pass before anything else.</summary>
    public ReadOnlyMemory<byte> Released { get; private set; }

    /// <summary>
    /// Looks at <paramref name="data"/> from its start, up to the next place a pong starts or ends.
    /// </summary>
    /// <param name="pass">True: the bytes looked at go on as they are; false: they were taken (a pong, whole or not yet).</param>
    /// <returns>How many bytes of <paramref name="data"/> were looked at; more than 0 unless it is empty.</returns>
    public int Next(ReadOnlySpan<byte> data, out bool pass)
    {
        Released = default;
        pass = false;
        if (_catching)
        {
            return Catch(data);
        }

        var i = 0;
        while (i < data.Length)
        {
            if (_frames.AtBoundary)
            {
                if (data[i] == ControlFrames.Pong)
                {
                    if (i > 0)
                    {
                        break;
                    }

                    (_catching, _heldLength) = (true, 0);
                    return Catch(data);
                }

                // The frame's first byte alone, so that the next call stops at its end rather than at once.
                _frames.Advance(data.Slice(i++, 1), stopAtBoundary: false);
            }

            i += _frames.Advance(data[i..], stopAtBoundary: true);
        }

        pass = true;
        return i;
    }

    private int Catch(ReadOnlySpan<byte> data)
    {
        _held ??= new byte[MaxControlFrame];
        var i = 0;
        while (i < data.Length)
        {
            _held[_heldLength++] = data[i++];
            if (_heldLength < 2)
            {
                continue;
            }

            // A length over 125 is no control frame (section 5.5): let it through for the other side to judge.
            var length = _held[1] & 0x7F;
            if (length > 125 || _heldLength == 2 + (Masked ? 4 : 0) + length)
            {
                Decide(length);
                break;
            }
        }

        return i;
    }

    private readonly bool Masked => (_held![1] & 0x80) != 0;

    private void Decide(int length)
    {
        _catching = false;
        if (length == payload.Length && length <= 125 && IsOurs())
        {
            return;
        }

        Released = _held.AsMemory(0, _heldLength);
        _frames.Advance(Released.Span, stopAtBoundary: false);
    }

    private readonly bool IsOurs()
    {
        var start = Masked ? 6 : 2;
        for (var i = 0; i < payload.Length; i++)
        {
            var mask = Masked ? _held![2 + (i & 3)] : (byte)0;
            if ((byte)(_held![start + i] ^ mask) != payload[i])
            {
                return false;
            }
        }

        return true;
    }
}
