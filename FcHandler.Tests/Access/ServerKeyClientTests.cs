using System.ClientModel;
using System.ClientModel.Primitives;
using FcHandler.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace FcHandler.Tests.Access;

/// <summary>The official OpenAI .NET client in server-key mode, with an access token as its API key, as docs/access-control.md says.</summary>
public sealed class ServerKeyClientTests : ProxyTest
{
    protected override IDictionary<string, string?> Settings => AccessKit.ServerKeyMode();

    private OpenAIClientOptions Options => new() { Endpoint = Proxy.OpenAIEndpoint, RetryPolicy = new ClientRetryPolicy(maxRetries: 0) };

    [Fact]
    public async Task SignedTokenAsApiKey_ChatStreamsAndUpstreamSeesOnlyServerKey()
    {
        var token = AccessKit.Signed("sdk-user", models: [FakeResponses.Model]);
        var chat = new ChatClient(FakeResponses.Model, new ApiKeyCredential(token), Options);

        var text = new List<string>();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Say hello")]))
        {
            text.AddRange(update.ContentUpdate.Select(part => part.Text));
        }

        Assert.Equal(["Hel", "lo", "!"], text);
        Assert.Equal("Bearer " + AccessKit.ServerKey, Upstream.SingleRequest.Headers["Authorization"]);
    }

    [Fact]
    public async Task StaticTokenAsApiKey_ListsModels()
    {
        var models = new OpenAIModelClient(new ApiKeyCredential(AccessKit.StaticToken), Options);

        var list = await models.GetModelsAsync();

        Assert.Equal(FakeResponses.Model, Assert.Single(list.Value).Id);
    }

    [Fact]
    public async Task OpenAIKeyInsteadOfToken_Gets401TheClientCanRead()
    {
        var chat = new ChatClient(FakeResponses.Model, new ApiKeyCredential("sk-proj-someone-elses-key-0123456789"), Options);

        var exception = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(401, exception.Status);
        Assert.Contains("invalid_api_key", exception.Message, StringComparison.Ordinal);
        Assert.Equal(0, Upstream.Connections);
    }
}
