using System.Security.Cryptography;

namespace FcHandler.Proxy.WebSockets;

/// <summary>The proxy's own control frames (RFC 6455 section 5.5): a payload of at most 125 bytes, FIN set.</summary>
internal static class ControlFrames
{
    public const byte Close = 0x88;
    public const byte Ping = 0x89;
    public const byte Pong = 0x8A;

    /// <summary>As a server sends it, to the client: unmasked.</summary>
    public static byte[] ToClient(byte first, ReadOnlySpan<byte> payload) => [first, (byte)payload.Length, .. payload];

    /// <summary>
    /// As a client sends it, to the upstream: masked with a fresh random key (section 5.3 requires an unpredictable one,
    /// so a frame's bytes cannot be chosen by whoever chose its payload).
    /// </summary>
    public static byte[] ToUpstream(byte first, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[2 + 4 + payload.Length];
        frame[0] = first;
        frame[1] = (byte)(0x80 | payload.Length);
        var mask = frame.AsSpan(2, 4);
        RandomNumberGenerator.Fill(mask);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[6 + i] = (byte)(payload[i] ^ mask[i & 3]);
        }

        return frame;
    }
}
