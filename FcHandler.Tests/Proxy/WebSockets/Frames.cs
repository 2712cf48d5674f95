using System.Buffers.Binary;
using System.Text;

namespace FcHandler.Tests.Proxy.WebSockets;

/// <summary>RFC 6455 frames built byte by byte, as a client (masked) or a server (unmasked) sends them.</summary>
public static class Frames
{
    public const int TextOpcode = 0x1;
    public const int Binary = 0x2;
    public const int Close = 0x8;
    public const int Ping = 0x9;

    private static readonly byte[] MaskKey = [0x37, 0xFA, 0x21, 0x3D];

    public static byte[] Build(int opcode, byte[] payload, bool masked, bool fin = true)
    {
        var header = new List<byte> { (byte)((fin ? 0x80 : 0) | opcode) };
        var maskBit = masked ? 0x80 : 0;
        if (payload.Length < 126)
        {
            header.Add((byte)(maskBit | payload.Length));
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            header.Add((byte)(maskBit | 126));
            header.AddRange([(byte)(payload.Length >> 8), (byte)payload.Length]);
        }
        else
        {
            header.Add((byte)(maskBit | 127));
            var length = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(length, payload.Length);
            header.AddRange(length);
        }

        if (!masked)
        {
            return [.. header, .. payload];
        }

        header.AddRange(MaskKey);
        return [.. header, .. payload.Select((b, i) => (byte)(b ^ MaskKey[i & 3]))];
    }

    public static byte[] Text(string text, bool masked) => Build(TextOpcode, Encoding.UTF8.GetBytes(text), masked);

    public static byte[] CloseWith(int code, string reason, bool masked)
        => Build(Close, [(byte)(code >> 8), (byte)code, .. Encoding.UTF8.GetBytes(reason)], masked);

    /// <summary>The close code in a close frame, unmasking it if masked.</summary>
    public static int CloseCodeOf(byte[] frame)
    {
        Assert.Equal(0x88, frame[0]);
        var masked = (frame[1] & 0x80) != 0;
        var payload = frame.AsSpan(masked ? 6 : 2);
        var mask = masked ? frame.AsSpan(2, 4) : [0, 0, 0, 0];
        return ((payload[0] ^ mask[0]) << 8) | (payload[1] ^ mask[1]);
    }
}
