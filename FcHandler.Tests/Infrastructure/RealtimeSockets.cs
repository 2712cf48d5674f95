using System.Net.WebSockets;
using System.Text;

namespace FcHandler.Tests.Infrastructure;

/// <summary>Raw WebSocket clients of the proxy, as a browser or a server-side app opens them.</summary>
public static class RealtimeSockets
{
    public const string Model = "gpt-realtime";

    /// <summary>The proxy's WebSocket URL for <paramref name="pathAndQuery"/>.</summary>
    public static Uri Url(this ProxyHost proxy, string pathAndQuery = "/v1/realtime?model=" + Model)
        => new UriBuilder(new Uri(proxy.BaseAddress, pathAndQuery)) { Scheme = "ws" }.Uri;

    /// <summary>Opens a WebSocket through the proxy; the handshake's status and headers stay readable.</summary>
    public static async Task<ClientWebSocket> ConnectAsync(
        ProxyHost proxy, Action<ClientWebSocketOptions>? configure = null, string pathAndQuery = "/v1/realtime?model=" + Model)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        configure?.Invoke(socket.Options);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(proxy.Url(pathAndQuery), timeout.Token);
        return socket;
    }

    /// <summary>
    /// Tries to open a WebSocket that the proxy should refuse; returns the handshake's answer, status and JSON body
    /// (<see cref="ClientWebSocket"/> exposes no body, so the refusal is read over a raw socket).
    /// </summary>
    public static Task<string> RefusedHandshakeAsync(ProxyHost proxy, string headers, string pathAndQuery = "/v1/realtime?model=" + Model)
        => RawHttp.SendAsync(proxy.BaseAddress,
            $"GET {pathAndQuery} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n" +
            $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{headers}\r\n");

    public static Task SendTextAsync(this WebSocket socket, string text)
        => socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, Timeout());

    public static async Task<string> ReceiveTextAsync(this WebSocket socket)
    {
        var message = await FakeRealtime.ReceiveAsync(socket, Timeout());
        Assert.NotNull(message);
        return message.Text;
    }

    /// <summary>Receives until the peer's close frame arrives; returns what it said.</summary>
    public static async Task<(WebSocketCloseStatus? Status, string? Description)> ReceiveCloseAsync(this WebSocket socket)
    {
        while (await FakeRealtime.ReceiveAsync(socket, Timeout()) is not null)
        {
        }

        return (socket.CloseStatus, socket.CloseStatusDescription);
    }

    /// <summary>Receives until the peer's close frame arrives and answers it with the same code, as a browser does.</summary>
    public static async Task<(WebSocketCloseStatus? Status, string? Description)> ReceiveCloseAndAnswerAsync(this WebSocket socket)
    {
        var (status, description) = await socket.ReceiveCloseAsync();
        if (socket.State == WebSocketState.CloseReceived)
        {
            await socket.CloseOutputAsync(status ?? WebSocketCloseStatus.Empty, null, Timeout());
        }

        return (status, description);
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;
}
