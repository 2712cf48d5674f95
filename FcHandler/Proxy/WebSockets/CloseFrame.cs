using System.Security.Cryptography;
using System.Text;

namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// The close frame the proxy sends itself when the instance stops (RFC 6455 section 5.5.1): code 1001, "going away",
/// the code a server that is shutting down uses (section 7.4.1), so clients know to reconnect.
/// </summary>
internal static class CloseFrame
{
    public const int GoingAway = 1001;

    private static readonly byte[] Payload = [GoingAway >> 8, GoingAway & 0xFF, .. Encoding.ASCII.GetBytes("proxy instance stopping, reconnect")];

    /// <summary>To the client, as a server sends it: unmasked. The same bytes every time.</summary>
    public static readonly byte[] ToClient = [0x88, (byte)Payload.Length, .. Payload];

    /// <summary>
    /// To the upstream, as a client sends it: masked with a fresh random key (section 5.3 requires an unpredictable one,
    /// so a frame's bytes cannot be chosen by whoever chose its payload).
    /// </summary>
    public static byte[] ToUpstream()
    {
        var frame = new byte[2 + 4 + Payload.Length];
        frame[0] = 0x88;
        frame[1] = (byte)(0x80 | Payload.Length);
        var mask = frame.AsSpan(2, 4);
        RandomNumberGenerator.Fill(mask);
        for (var i = 0; i < Payload.Length; i++)
        {
            frame[6 + i] = (byte)(Payload[i] ^ mask[i & 3]);
        }

        return frame;
    }
}
