using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.WebSockets;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace FcHandler.Tests.Keys;

/// <summary>The pool as clients meet it: the official .NET client streaming, a Realtime handshake, an ephemeral key's minting.</summary>
public sealed class KeyPoolClientTests : ProxyTest
{
    private KeyedAnswers _keys = null!;

    protected override IDictionary<string, string?> Settings => PoolKit.Settings();

    private KeyedAnswers Keys => _keys ??= new KeyedAnswers(Upstream);

    private string[] KeysSeen => [.. Upstream.Requests.Select(PoolKit.KeyOf)];

    [Fact]
    public async Task OfficialClientStream_FirstKeyRateLimited_StreamsFromTheNextUnaware()
    {
        var token = AccessKit.Signed("sdk-user");
        var order = PoolKit.Order("sdk-user");
        Keys[order[0]] = PoolKit.Answer(429, PoolKit.RateLimitBody, ("retry-after", "30"));
        var chat = new ChatClient(FakeResponses.Model, new ApiKeyCredential(token),
            new OpenAIClientOptions { Endpoint = Proxy.OpenAIEndpoint, RetryPolicy = new ClientRetryPolicy(maxRetries: 0) });

        var text = new List<string>();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Say hello")]))
        {
            text.AddRange(update.ContentUpdate.Select(part => part.Text));
        }

        Assert.Equal(["Hel", "lo", "!"], text);
        Assert.Equal([order[0], order[1]], KeysSeen);
        await Proxy.Logs.WaitForLineAsync(l => l.Contains($"Key {order[0]} cooling down for 30s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RealtimeHandshake_FirstKeyRateLimited_ConnectsWithTheNext()
    {
        var order = PoolKit.Order("voice-user");
        Upstream.AcceptWebSocket = context => context.Request.Headers.Authorization != "Bearer " + PoolKit.Secrets[order[0]];
        Keys[order[0]] = PoolKit.Answer(429, PoolKit.RateLimitBody);
        var token = AccessKit.Signed("voice-user");

        using var socket = await RealtimeSockets.ConnectAsync(Proxy, options =>
        {
            options.AddSubProtocol("realtime");
            options.AddSubProtocol("openai-insecure-api-key." + token);
        });

        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        Assert.Equal([order[0], order[1]], KeysSeen);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        var line = await Proxy.Logs.WaitForLineAsync(l => l.Contains("101 websocket", StringComparison.Ordinal));
        Assert.Contains($"subject=voice-user key={order[1]} keys_tried=2 ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResponsesWebSocketHandshake_FirstKeyRateLimited_ConnectsWithTheNext()
    {
        var order = PoolKit.Order("responses-user");
        Upstream.AcceptWebSocket = context => context.Request.Headers.Authorization != "Bearer " + PoolKit.Secrets[order[0]];
        Keys[order[0]] = PoolKit.Answer(429, PoolKit.RateLimitBody, ("retry-after", "30"));

        using var socket = await RealtimeSockets.ConnectAsync(Proxy,
            options => options.SetRequestHeader("Authorization", "Bearer " + AccessKit.Signed("responses-user")), "/v1/responses");

        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        Assert.Equal([order[0], order[1]], KeysSeen);
        Assert.All(Upstream.Requests, request => Assert.Equal("/v1/responses", request.Path));
        await Proxy.Logs.WaitForLineAsync(l => l.Contains($"Key {order[0]} cooling down for 30s", StringComparison.Ordinal));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        var line = await Proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/responses generation 101 websocket", StringComparison.Ordinal));
        Assert.Contains($"subject=responses-user key={order[1]} keys_tried=2 ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebSocketRateLimitedAfterThe101_NoFailover_TheSessionEndsOnItsKey()
    {
        var order = PoolKit.Order("voice-user");
        const string RateLimited = """{"type":"error","error":{"type":"rate_limit_exceeded","code":"rate_limit_exceeded","message":"Rate limit reached"}}""";
        Upstream.WebSocketHandler = async (upstream, _) =>
        {
            await FakeRealtime.SendTextAsync(upstream, RateLimited);
            await upstream.CloseAsync(WebSocketCloseStatus.InternalServerError, "rate limited", CancellationToken.None);
        };

        using var socket = await RealtimeSockets.ConnectAsync(Proxy, options =>
        {
            options.AddSubProtocol("realtime");
            options.AddSubProtocol("openai-insecure-api-key." + AccessKit.Signed("voice-user"));
        });

        // The client gets the upstream's own answer and close; the session is never moved to another key.
        Assert.Equal(RateLimited, await socket.ReceiveTextAsync());
        var (status, _) = await socket.ReceiveCloseAsync();
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        Assert.Equal(WebSocketCloseStatus.InternalServerError, status);
        var line = await Proxy.Logs.WaitForLineAsync(l => l.Contains("101 websocket", StringComparison.Ordinal));
        Assert.Contains($"key={order[0]} keys_tried=1 ", line, StringComparison.Ordinal);
        Assert.Equal([order[0]], KeysSeen);
        Assert.DoesNotContain(Proxy.Logs.Lines, l => l.Contains("cooling down", StringComparison.Ordinal) || l.Contains("refused by OpenAI", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClientSecrets_AreMintedWithTheSubjectsKey()
    {
        Assert.NotEqual(PoolKit.Order("browser-a")[0], PoolKit.Order("browser-b")[0]); // two subjects of two keys, or the test proves nothing
        Keys[PoolKit.Order("browser-a")[0]] = PoolKit.Answer(200, """{"value":"ek_test","expires_at":1}""");
        Keys[PoolKit.Order("browser-b")[0]] = PoolKit.Answer(200, """{"value":"ek_test","expires_at":1}""");
        foreach (var subject in new[] { "browser-a", "browser-b", "browser-a" })
        {
            using var response = await Proxy.Client.SendAsync(AccessKit.Post(
                "/v1/realtime/client_secrets", """{"session":{"type":"realtime","model":"gpt-realtime"}}""", AccessKit.Signed(subject)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal([PoolKit.Order("browser-a")[0], PoolKit.Order("browser-b")[0], PoolKit.Order("browser-a")[0]], KeysSeen);
    }

    [Fact]
    public async Task EphemeralKey_GoesUpstreamAsSent_NotThroughThePool()
    {
        using var socket = await RealtimeSockets.ConnectAsync(Proxy, options =>
        {
            options.AddSubProtocol("realtime");
            options.AddSubProtocol("openai-insecure-api-key.ek_0123456789abcdef");
        });

        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        var headers = string.Join('\n', Upstream.SingleRequest.Headers.Values);
        Assert.Contains("ek_0123456789abcdef", headers, StringComparison.Ordinal);
        Assert.All(PoolKit.Secrets.Values, secret => Assert.DoesNotContain(secret, headers, StringComparison.Ordinal));
    }
}
