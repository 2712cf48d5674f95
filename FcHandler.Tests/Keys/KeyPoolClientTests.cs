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
    public async Task ClientSecrets_AreMintedWithTheSubjectsKey()
    {
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
