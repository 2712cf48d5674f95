using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FcHandler.Usage;

namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// Follows the frame boundaries of one direction of a WebSocket (RFC 6455 section 5.2) as its bytes pass, without
/// holding any of them: only a frame's header (2 to 14 bytes) is kept until it is complete, payloads are skipped by
/// length. That is enough to read close codes and to find the one place a frame of our own may go in, between two
/// frames. Payload bytes are looked at only in close frames (at most 125 bytes, code in the first two) and, given a
/// reader (<see cref="RealtimeUsage"/> upstream, a <see cref="ClientMessageGate"/> from a client whose messages a scope or
/// a limit must see), in the messages of its direction, passed to it as they go by, a client's unmasked on the way.
/// </summary>
/// <param name="textMessages">Told the bytes and the ends of the text messages of this direction; null to look at none.</param>
/// <param name="everyMessage">
/// A client's direction read for a gate: binary messages are passed too (nothing a client sends goes unread), and
/// <see cref="Advance"/> stops at the end of each message, so that its last byte can be held back until the gate decides.
/// </param>
internal struct FrameTracker(ITextMessages? textMessages, bool everyMessage = false)
{
    private const int OpcodeContinuation = 0x0;
    private const int OpcodeText = 0x1;
    private const int OpcodeBinary = 0x2;
    private const int OpcodeClose = 0x8;

    private HeaderBytes _header;
    private int _headerFilled;
    private int _headerLength;
    private long _payloadRemaining;
    private long _payloadOffset;
    private int _opcode;
    private uint _mask;
    private int _closeCodeBytes;
    private bool _final;
    private bool _inTextMessage;

    /// <summary>
    /// The status code of the first close frame seen: 0 while none has been, 1005 (RFC 6455 section 7.4.1, "no status
    /// received") for a close frame without one.
    /// </summary>
    public int CloseCode { get; private set; }

    /// <summary>With <c>everyMessage</c>: <see cref="Advance"/> stopped because a message ended; cleared by the next call.</summary>
    public bool MessageEnded { get; private set; }

    /// <summary>True when the direction carried something that is not WebSocket framing (a length over 2^63): no longer followed.</summary>
    public bool Lost { get; private set; }

    /// <summary>Between two frames: a frame of our own may be sent now without cutting one in two.</summary>
    public readonly bool AtBoundary => !Lost && _headerFilled == 0 && _payloadRemaining == 0;

    /// <summary>
    /// Follows <paramref name="data"/>, all of it or, with <paramref name="stopAtBoundary"/>, up to the end of the
    /// first frame that ends in it (0 when already between frames).
    /// </summary>
    /// <returns>How many bytes of <paramref name="data"/> were followed.</returns>
    public int Advance(ReadOnlySpan<byte> data, bool stopAtBoundary)
    {
        MessageEnded = false;
        if (Lost)
        {
            return data.Length;
        }

        if (stopAtBoundary && AtBoundary)
        {
            return 0;
        }

        var i = 0;
        while (i < data.Length)
        {
            if (_payloadRemaining > 0)
            {
                var take = (int)Math.Min(_payloadRemaining, data.Length - i);
                if (_opcode == OpcodeClose)
                {
                    ReadCloseCode(data.Slice(i, take));
                }
                else if (InTextMessage)
                {
                    Pass(data.Slice(i, take));
                }

                i += take;
                _payloadRemaining -= take;
                _payloadOffset += take;
                if (_payloadRemaining == 0 && EndFrame() && (stopAtBoundary || MessageEnded))
                {
                    return i;
                }

                continue;
            }

            _header[_headerFilled++] = data[i++];
            if (_headerFilled == 2)
            {
                _headerLength = HeaderLength(_header[1]);
            }

            if (_headerFilled == _headerLength && StartFrame() && (stopAtBoundary || MessageEnded))
            {
                return i;
            }

            if (Lost)
            {
                return data.Length;
            }
        }

        return i;
    }

    // 2 bytes, then 2 or 8 for an extended length, then 4 for a mask key.
    private static int HeaderLength(byte second) => 2 + (second & 0x7F) switch
    {
        126 => 2,
        127 => 8,
        _ => 0,
    } + ((second & 0x80) != 0 ? 4 : 0);

    /// <returns>True when the frame has no payload, so it has ended too.</returns>
    private bool StartFrame()
    {
        var header = (ReadOnlySpan<byte>)_header;
        _opcode = header[0] & 0x0F;
        _final = (header[0] & 0x80) != 0;
        if (_opcode is OpcodeText or OpcodeBinary)
        {
            // A continuation goes on with its message; control frames interleave.
            _inTextMessage = _opcode == OpcodeText || everyMessage;
        }

        var length7 = header[1] & 0x7F;
        long length = length7 switch
        {
            126 => BinaryPrimitives.ReadUInt16BigEndian(header[2..]),
            127 => BinaryPrimitives.ReadInt64BigEndian(header[2..]),
            _ => length7,
        };

        if (length < 0)
        {
            Lost = true;
            return false;
        }

        _mask = (header[1] & 0x80) != 0 ? BinaryPrimitives.ReadUInt32BigEndian(header[(_headerLength - 4)..]) : 0;
        _headerFilled = 0;
        _payloadRemaining = length;
        _payloadOffset = 0;
        _closeCodeBytes = 0;
        return length == 0 && EndFrame();
    }

    /// <returns>Always true: the caller may stop here.</returns>
    private bool EndFrame()
    {
        if (_opcode == OpcodeClose && CloseCode == 0)
        {
            CloseCode = _payloadOffset >= 2 ? _closeCodeBytes : 1005;
        }

        if (_final && InTextMessage)
        {
            textMessages!.EndMessage();
            _inTextMessage = false;
            MessageEnded = everyMessage;
        }

        return true;
    }

    // A data frame of a message this direction's reader is told about: a text message, or with everyMessage any.
    private readonly bool InTextMessage
        => textMessages is not null && _inTextMessage && _opcode is (OpcodeText or OpcodeBinary or OpcodeContinuation);

    // A client's payload is masked (RFC 6455 section 5.3): unmasked in small pieces on the stack, never held.
    private readonly void Pass(ReadOnlySpan<byte> payload)
    {
        if (_mask == 0)
        {
            textMessages!.MessageBytes(payload);
            return;
        }

        Span<byte> plain = stackalloc byte[256];
        var offset = _payloadOffset;
        while (!payload.IsEmpty)
        {
            var piece = Math.Min(payload.Length, plain.Length);
            for (var j = 0; j < piece; j++)
            {
                plain[j] = (byte)(payload[j] ^ (byte)(_mask >> (8 * (3 - (int)((offset + j) & 3)))));
            }

            textMessages!.MessageBytes(plain[..piece]);
            payload = payload[piece..];
            offset += piece;
        }
    }

    private void ReadCloseCode(ReadOnlySpan<byte> payload)
    {
        // The code is the first two payload bytes, big-endian; a client's are masked (section 5.3).
        for (var j = 0; j < payload.Length && _payloadOffset + j < 2; j++)
        {
            var offset = (int)(_payloadOffset + j);
            var maskByte = (byte)(_mask >> (8 * (3 - (offset & 3))));
            _closeCodeBytes = (_closeCodeBytes << 8) | (byte)(payload[j] ^ maskByte);
        }
    }

    [InlineArray(14)]
    private struct HeaderBytes
    {
        private byte _first;
    }
}
