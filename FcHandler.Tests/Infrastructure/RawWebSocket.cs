using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace FcHandler.Tests.Infrastructure;

/// <summary>One WebSocket frame as it crossed the wire: its first byte, whether it was masked, and its payload unmasked.</summary>
public sealed record RawFrame(byte First, bool Masked, byte[] Payload)
{
    public int Opcode => First & 0x0F;

    public bool Fin => (First & 0x80) != 0;

    public string Text => Encoding.UTF8.GetString(Payload);
}

/// <summary>
/// A WebSocket end that shows every frame, control frames included (<see cref="System.Net.WebSockets.WebSocket"/>
/// answers pings and hides pongs): a client of the proxy over a plain socket, or the fake upstream's side of an upgrade.
/// </summary>
public sealed class RawWebSocket(Stream stream, IDisposable? owner = null) : IAsyncDisposable
{
    private const string Guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>Opens a WebSocket through the proxy at <paramref name="server"/>, as a client with no pings of its own.</summary>
    /// <param name="headers">Further request header lines, each ending in CRLF.</param>
    public static async Task<RawWebSocket> ConnectAsync(Uri server, string pathAndQuery = "/v1/realtime?model=" + RealtimeSockets.Model, string headers = "")
    {
        var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port).WaitAsync(TimeSpan.FromSeconds(30));
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET {pathAndQuery} HTTP/1.1\r\nHost: {server.Authority}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{headers}\r\n"));

        // The answer's head, byte by byte so that no frame after it is taken with it.
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            await stream.ReadExactlyAsync(one).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            head.Append((char)one[0]);
        }

        Assert.StartsWith("HTTP/1.1 101", head.ToString(), StringComparison.Ordinal);
        return new RawWebSocket(stream, client);
    }

    /// <summary>Accepts the WebSocket a request asks for, as a server, and hands over the upgraded connection.</summary>
    public static async Task<RawWebSocket> AcceptAsync(HttpContext context)
    {
        var key = context.Request.Headers["Sec-WebSocket-Key"].ToString();
        context.Response.Headers["Upgrade"] = "websocket";
        context.Response.Headers["Sec-WebSocket-Accept"] = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + Guid)));
        var stream = await context.Features.GetRequiredFeature<IHttpUpgradeFeature>().UpgradeAsync();
        return new RawWebSocket(stream);
    }

    public Task SendAsync(byte[] frame) => stream.WriteAsync(frame).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>The next frame, whatever it is; null when the connection ended.</summary>
    public async Task<RawFrame?> ReceiveAsync()
    {
        var header = new byte[14];
        if (await stream.ReadAtLeastAsync(header.AsMemory(0, 2), 2, throwOnEndOfStream: false).AsTask().WaitAsync(TimeSpan.FromSeconds(30)) < 2)
        {
            return null;
        }

        var masked = (header[1] & 0x80) != 0;
        var extra = (header[1] & 0x7F) switch { 126 => 2, 127 => 8, _ => 0 } + (masked ? 4 : 0);
        await stream.ReadExactlyAsync(header.AsMemory(2, extra)).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        long length = (header[1] & 0x7F) switch
        {
            126 => BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(2)),
            127 => BinaryPrimitives.ReadInt64BigEndian(header.AsSpan(2)),
            var small => small,
        };
        var payload = new byte[length];
        await stream.ReadExactlyAsync(payload).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        if (masked)
        {
            var mask = header.AsSpan(2 + extra - 4, 4);
            for (var i = 0; i < payload.Length; i++)
            {
                payload[i] ^= mask[i & 3];
            }
        }

        return new RawFrame(header[0], masked, payload);
    }

    /// <summary>The next frame that is not a ping (a quiet end may get several while a test waits).</summary>
    public async Task<RawFrame?> ReceiveSkippingPingsAsync()
    {
        while (true)
        {
            var frame = await ReceiveAsync();
            if (frame is not { Opcode: 0x9 })
            {
                return frame;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stream.DisposeAsync();
        owner?.Dispose();
    }
}
