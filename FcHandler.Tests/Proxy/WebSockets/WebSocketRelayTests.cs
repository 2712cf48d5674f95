using System.Net;
using System.Net.WebSockets;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Proxy.WebSockets;

/// <summary>The WebSocket relay through real sockets: client -> proxy -> fake Realtime upstream and back.</summary>
public sealed class WebSocketRelayTests : ProxyTest
{
    [Fact]
    public async Task Handshake_ClientKey_UpstreamSeesHandshakeAndKeyButNoIdentity()
    {
        using var socket = await RealtimeSockets.ConnectAsync(Proxy, options =>
        {
            options.SetRequestHeader("Authorization", "Bearer sk-client-key");
            options.SetRequestHeader("X-Forwarded-For", "203.0.113.7");
            options.SetRequestHeader("Cookie", "session=abc");
            options.AddSubProtocol("realtime");
        });

        Assert.Equal(HttpStatusCode.SwitchingProtocols, socket.HttpStatusCode);
        Assert.Equal("realtime", socket.SubProtocol);
        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        var seen = Upstream.SingleRequest;
        Assert.Equal(("GET", "/v1/realtime", "?model=gpt-realtime"), (seen.Method, seen.Path, seen.Query));
        Assert.Equal("Bearer sk-client-key", seen.Headers["Authorization"]);
        Assert.Equal("realtime", seen.Headers["Sec-WebSocket-Protocol"]);
        Assert.Equal("websocket", seen.Headers["Upgrade"]);
        Assert.False(seen.Headers.ContainsKey("X-Forwarded-For"));
        Assert.False(seen.Headers.ContainsKey("Cookie"));

        await socket.SendTextAsync("""{"type":"input_audio_buffer.clear"}""");
        Assert.Equal("""{"type":"input_audio_buffer.clear"}""", await socket.ReceiveTextAsync());
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, (await Upstream.FirstWebSocketEnd).CloseStatus);
    }
}
