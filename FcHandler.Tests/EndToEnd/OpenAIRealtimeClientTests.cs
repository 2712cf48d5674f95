using System.ClientModel;
using System.ClientModel.Primitives;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;
using OpenAI.Realtime;

namespace FcHandler.Tests.EndToEnd;

/// <summary>
/// The official OpenAI .NET client's Realtime API (a WebSocket session) through the proxy, in both key modes, pointed at
/// it exactly as docs/realtime.md says.
/// </summary>
public sealed class OpenAIRealtimeClientTests
{
    private static RealtimeClient Client(ProxyHost proxy, string key) => new(
        new ApiKeyCredential(key),
        new RealtimeClientOptions { Endpoint = proxy.OpenAIEndpoint, RetryPolicy = new ClientRetryPolicy(maxRetries: 0) });

    /// <summary>A text turn: the session is created, an item and a response are sent, the answer streams back.</summary>
    private static async Task<string> TalkAsync(RealtimeClient client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var session = await client.StartConversationSessionAsync(RealtimeSockets.Model, cancellationToken: timeout.Token);

        var answer = "";
        await foreach (var update in session.ReceiveUpdatesAsync(timeout.Token))
        {
            switch (update)
            {
                case RealtimeServerUpdateSessionCreated:
                    await session.AddItemAsync(RealtimeItem.CreateUserMessageItem("Say hello"), timeout.Token);
                    await session.StartResponseAsync(timeout.Token);
                    break;
                case RealtimeServerUpdateResponseOutputTextDelta delta:
                    answer += delta.Delta;
                    break;
            }

            if (answer == string.Concat(FakeRealtime.AnswerPieces))
            {
                break;
            }
        }

        return answer;
    }

    [Fact]
    public async Task ConversationSession_ClientKey_StreamsTheAnswer()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);

        var answer = await TalkAsync(Client(proxy, "sk-client-key"));

        Assert.Equal("Hello!", answer);
        var handshake = Assert.Single(upstream.Requests);
        Assert.Equal(("/v1/realtime", "?model=gpt-realtime"), (handshake.Path, handshake.Query));
        Assert.Equal("Bearer sk-client-key", handshake.Headers["Authorization"]);
    }

    [Fact]
    public async Task ConversationSession_ServerKeyModeWithToken_UpstreamSeesOnlyTheServerKey()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream, AccessKit.ServerKeyMode());
        var token = AccessKit.Signed("voice-app", models: ["gpt-realtime*"], routes: ["realtime"]);

        var answer = await TalkAsync(Client(proxy, token));

        Assert.Equal("Hello!", answer);
        var handshake = Assert.Single(upstream.Requests);
        Assert.Equal("Bearer " + AccessKit.ServerKey, handshake.Headers["Authorization"]);
        Assert.DoesNotContain(token, string.Join('\n', handshake.Headers.Values) + handshake.Query, StringComparison.Ordinal);
        await proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/realtime realtime 101 websocket", StringComparison.Ordinal)
            && l.Contains("subject=voice-app ", StringComparison.Ordinal));
        Assert.DoesNotContain(token, proxy.Logs.All, StringComparison.Ordinal);
    }
}
