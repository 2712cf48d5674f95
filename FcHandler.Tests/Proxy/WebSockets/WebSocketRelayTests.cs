using System.Net;
using System.Net.WebSockets;
using System.Text;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Proxy.WebSockets;

/// <summary>The WebSocket relay through real sockets: client -> proxy -> fake Realtime upstream and back.</summary>
public sealed class WebSocketRelayTests : ProxyTest
{
    private Task<string> AccessLineAsync() => Proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/realtime realtime 101 websocket", StringComparison.Ordinal));

    [Fact]
    public async Task Handshake_ClientKey_UpstreamSeesExactlyTheHandshakeAndAllowedHeaders()
    {
        using var socket = await RealtimeSockets.ConnectAsync(Proxy, options =>
        {
            options.SetRequestHeader("Authorization", "Bearer sk-client-key");
            options.SetRequestHeader("OpenAI-Beta", "realtime=v1");
            options.SetRequestHeader("User-Agent", "voice-app/1.0");
            options.SetRequestHeader("X-Forwarded-For", "203.0.113.7");
            options.SetRequestHeader("x-fc-security-token", "fc-token");
            options.SetRequestHeader("Origin", "https://app.example.com");
            options.SetRequestHeader("Cookie", "session=abc");
            options.AddSubProtocol("realtime");
        });

        Assert.Equal(HttpStatusCode.SwitchingProtocols, socket.HttpStatusCode);
        Assert.Equal("realtime", socket.SubProtocol);
        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        var seen = Upstream.SingleRequest;
        Assert.Equal(("GET", "/v1/realtime", "?model=gpt-realtime"), (seen.Method, seen.Path, seen.Query));
        Assert.Equal("Bearer sk-client-key", seen.Headers["Authorization"]);
        Assert.Equal("realtime=v1", seen.Headers["OpenAI-Beta"]);
        Assert.Equal("realtime", seen.Headers["Sec-WebSocket-Protocol"]);
        Assert.Equal(("Upgrade", "websocket", "13"), (seen.Headers["Connection"], seen.Headers["Upgrade"], seen.Headers["Sec-WebSocket-Version"]));
        Assert.Equal(
            ["authorization", "connection", "host", "openai-beta", "sec-websocket-key", "sec-websocket-protocol", "sec-websocket-version", "upgrade", "user-agent"],
            seen.Headers.Keys.Select(k => k.ToLowerInvariant()).Order());
    }

    [Fact]
    public async Task Handshake_BrowserKeyInSubprotocol_PassesUnchangedWithoutServerKey()
    {
        // Without OPENAI_API_KEY the client's credential is the client's business, wherever its SDK puts it.
        using var socket = await RealtimeSockets.ConnectAsync(Proxy, options =>
        {
            options.AddSubProtocol("realtime");
            options.AddSubProtocol("openai-insecure-api-key.ek_68af296e8e408191a1120ab6383263c2");
        });

        Assert.Equal("realtime", socket.SubProtocol);
        Assert.Equal("realtime, openai-insecure-api-key.ek_68af296e8e408191a1120ab6383263c2", Upstream.SingleRequest.Headers["Sec-WebSocket-Protocol"]);
    }

    [Fact]
    public async Task ClientCloses_UpstreamGetsItsCodeAndTheAnswerComesBack()
    {
        using var socket = await RealtimeSockets.ConnectAsync(Proxy);
        var sessionCreated = await socket.ReceiveTextAsync();
        await socket.SendTextAsync("hello");
        Assert.Equal("hello", await socket.ReceiveTextAsync());

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);

        Assert.Equal((WebSocketCloseStatus.NormalClosure, "done"), (socket.CloseStatus, socket.CloseStatusDescription));
        var end = await Upstream.FirstWebSocketEnd;
        Assert.Equal((WebSocketCloseStatus.NormalClosure, "done", false), (end.CloseStatus, end.Description, end.Vanished));
        // Frames as they crossed: the client's masked "hello" (2 + 4 + 5) and close (2 + 4 + 6); the upstream's
        // session.created (2 + 2 + length), its echo (2 + 5) and its close (2 + 6).
        var line = await AccessLineAsync();
        Assert.Contains($" in=23B out={4 + sessionCreated.Length + 7 + 8}B closed_by=client client_close=1000 upstream_close=1000 subject=- ", line, StringComparison.Ordinal);
        Assert.Matches(" upstream_ttfb=[0-9.]+ms duration=[0-9.]+ms ", line);
    }

    [Fact]
    public async Task Session_ResponsesReportUsage_AccessLineHasTheModelAndTheirSum()
    {
        const string Done = """{"type":"response.done","event_id":"e","response":{"id":"resp_1","status":"completed","usage":{"total_tokens":253,"input_tokens":132,"output_tokens":121,"input_token_details":{"cached_tokens":64},"output_token_details":{"audio_tokens":91}}}}""";
        Upstream.WebSocketHandler = async (upstream, _) =>
        {
            await FakeRealtime.SendTextAsync(upstream, Done);
            await FakeRealtime.SendTextAsync(upstream, Done);
            await upstream.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        };
        using var socket = await RealtimeSockets.ConnectAsync(Proxy);

        Assert.Equal(Done, await socket.ReceiveTextAsync());
        Assert.Equal(Done, await socket.ReceiveTextAsync());
        await socket.ReceiveCloseAsync();
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        var line = await AccessLineAsync();
        Assert.Contains(" model=gpt-realtime usage=input:264,output:242,cached:128,total:506 ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamCloses_ClientGetsItsCodeAndReason()
    {
        Upstream.WebSocketHandler = async (upstream, _) =>
        {
            await FakeRealtime.SendTextAsync(upstream, "bye soon");
            await upstream.CloseAsync((WebSocketCloseStatus)4001, "session expired", CancellationToken.None);
        };
        using var socket = await RealtimeSockets.ConnectAsync(Proxy);
        Assert.Equal("bye soon", await socket.ReceiveTextAsync());

        var (status, description) = await socket.ReceiveCloseAsync();
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        Assert.Equal(((WebSocketCloseStatus)4001, "session expired"), (status, description));
        Assert.False((await Upstream.FirstWebSocketEnd).Vanished);
        Assert.Contains(" closed_by=upstream client_close=1000 upstream_close=4001 ", await AccessLineAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientVanishes_UpstreamConnectionEndsAtOnce()
    {
        using var socket = await RealtimeSockets.ConnectAsync(Proxy);
        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);

        socket.Abort(); // no close frame: the connection just ends

        // The upstream is idle in a receive: only the proxy closing its connection ends it (within the 30 s bound).
        var end = await Upstream.FirstWebSocketEnd;
        Assert.True(end.Vanished);
        Assert.Null(end.CloseStatus);
        Assert.Contains(" closed_by=client_gone client_close=- upstream_close=- ", await AccessLineAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamVanishes_ClientConnectionEnds()
    {
        Upstream.WebSocketHandler = (upstream, _) => FakeRealtime.SendTextAsync(upstream, "going"); // then returns: no close frame
        using var socket = await RealtimeSockets.ConnectAsync(Proxy);
        Assert.Equal("going", await socket.ReceiveTextAsync());

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ReceiveTextAsync());

        Assert.Contains(" closed_by=upstream_gone client_close=- upstream_close=- ", await AccessLineAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(70_000)] // more than YARP's 64 KB copy buffer: the frame crosses in several reads
    [InlineData(300_000)]
    public async Task Messages_OfAnySize_ArriveWholeAndInOrder(int size)
    {
        using var socket = await RealtimeSockets.ConnectAsync(Proxy);
        await socket.ReceiveTextAsync();
        var messages = Enumerable.Range(0, 5).Select(i => new string((char)('a' + i), size)).ToArray();

        foreach (var message in messages)
        {
            await socket.SendTextAsync(message);
        }

        foreach (var message in messages)
        {
            Assert.Equal(message, await socket.ReceiveTextAsync());
        }
    }

    [Fact]
    public async Task Upgrade_WithoutConnectionUpgrade_Is400AndReachesNothing()
    {
        var response = await RawHttp.SendAsync(Proxy.BaseAddress,
            "GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: close\r\n\r\n");

        Assert.Equal(400, RawHttp.StatusOf(response));
        Assert.Contains("\"code\":\"websocket_not_supported\"", response, StringComparison.Ordinal);
        Assert.Empty(Upstream.Requests);
    }

    [Fact]
    public async Task UpstreamRefusesHandshake_ClientGetsTheUpstreamsAnswer()
    {
        Upstream.AcceptWebSockets = false;
        Upstream.Handler = (context, _) => FakeResponses.JsonAsync(context,
            """{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""", 401);

        var response = await RealtimeSockets.RefusedHandshakeAsync(Proxy, "Authorization: Bearer sk-wrong\r\n");

        Assert.Equal(401, RawHttp.StatusOf(response));
        Assert.Contains("Incorrect API key provided", response, StringComparison.Ordinal);
        await Proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/realtime realtime 401 upstream=401 upstream_ttfb", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WebSocket_OnAnotherV1Path_IsRelayedToo()
    {
        using var socket = await RealtimeSockets.ConnectAsync(Proxy, pathAndQuery: "/v1/responses");

        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        Assert.Equal("/v1/responses", Upstream.SingleRequest.Path);
    }

    [Fact]
    public async Task BinaryMessage_IsRelayedAsBinary()
    {
        using var socket = await RealtimeSockets.ConnectAsync(Proxy);
        await socket.ReceiveTextAsync();
        var audio = Encoding.ASCII.GetBytes("\0\u0001\u0002pcm16");

        await socket.SendAsync(audio, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        var echo = await FakeRealtime.ReceiveAsync(socket);

        Assert.Equal(WebSocketMessageType.Binary, echo!.Type);
        Assert.Equal(audio, echo.Data);
    }

    [Fact]
    public async Task HundredConcurrentSessions_ExchangingFrames_LoseNothing()
    {
        const int Sessions = 100;
        const int MessagesEach = 20;
        static string Message(int session, int index) => $"s{session}-m{index}-" + new string((char)('a' + (index % 26)), ((session * 37) + (index * 101)) % 4000);

        async Task<int> RunSessionAsync(int session)
        {
            using var socket = await RealtimeSockets.ConnectAsync(Proxy);
            Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
            var sending = Task.Run(async () =>
            {
                for (var i = 0; i < MessagesEach; i++)
                {
                    await socket.SendTextAsync(Message(session, i));
                }
            });

            var received = 0;
            for (var i = 0; i < MessagesEach; i++)
            {
                Assert.Equal(Message(session, i), await socket.ReceiveTextAsync());
                received++;
            }

            await sending;
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            return received;
        }

        var received = await Task.WhenAll(Enumerable.Range(0, Sessions).Select(RunSessionAsync));

        Assert.All(received, count => Assert.Equal(MessagesEach, count));
        Assert.Equal(Sessions, Upstream.Requests.Count);
        await Proxy.Logs.WaitForLineAsync(_ => Proxy.Logs.Lines.Count(l => l.Contains("closed_by=client client_close=1000 upstream_close=1000", StringComparison.Ordinal)) == Sessions);
    }
}
