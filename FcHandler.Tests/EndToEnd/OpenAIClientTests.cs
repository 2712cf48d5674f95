using System.ClientModel;
using System.ClientModel.Primitives;
using System.Security.Cryptography;
using FcHandler.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Files;

namespace FcHandler.Tests.EndToEnd;

/// <summary>The official OpenAI .NET client, pointed at the proxy exactly as the README tells users to.</summary>
public sealed class OpenAIClientTests : ProxyTest
{

    private OpenAIClientOptions Options => new()
    {
        Endpoint = Proxy.OpenAIEndpoint,
        // Retries would hide a failure (and resend a 429'd request); a test wants the first answer.
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    };

    private ChatClient Chat => new(FakeResponses.Model, new ApiKeyCredential("sk-test-client-key"), Options);

    [Fact]
    public async Task ChatCompletion_Plain_Works()
    {
        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("Say hello")]);

        Assert.Equal("Hello!", completion.Content[0].Text);
        var upstream = Upstream.SingleRequest;
        Assert.Equal("/v1/chat/completions", upstream.Path);
        Assert.Equal("Bearer sk-test-client-key", upstream.Headers["Authorization"]);
        Assert.Contains("Say hello", upstream.BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatCompletion_Streaming_ArrivesUpdateByUpdate()
    {
        var stream = new HeldChatStream();
        Upstream.Handler = stream.ServeAsync;

        var texts = await stream.ReadAsync(Chat);

        Assert.Equal(["Hel", "lo"], texts);
        Assert.Contains("\"stream\":true", Upstream.SingleRequest.BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatCompletion_EveryHeaderTheClientSends_ArrivesUnchanged()
    {
        // What the client sends when it talks to OpenAI directly...
        await using var direct = await FakeOpenAI.StartAsync();
        var directOptions = Options;
        directOptions.Endpoint = new Uri(direct.BaseAddress, "/v1");
        await new ChatClient(FakeResponses.Model, new ApiKeyCredential("sk-test-client-key"), directOptions)
            .CompleteChatAsync([new UserChatMessage("Say hello")]);

        // ...is what OpenAI gets through the proxy, but for the Host.
        await Chat.CompleteChatAsync([new UserChatMessage("Say hello")]);

        static string[] WithoutHost(RecordedRequest request) => [.. request.Headers
            .Where(header => !header.Key.Equals("Host", StringComparison.OrdinalIgnoreCase))
            .Select(header => $"{header.Key.ToLowerInvariant()}: {header.Value}")
            .Order(StringComparer.Ordinal)];
        var sent = WithoutHost(direct.SingleRequest);
        Assert.Contains(sent, header => header.StartsWith("user-agent: OpenAI/", StringComparison.Ordinal));
        Assert.Equal(sent, WithoutHost(Upstream.SingleRequest));
    }

    [Fact]
    public async Task Embeddings_Work()
    {
        var client = new EmbeddingClient("text-embedding-3-small", new ApiKeyCredential("sk-test-client-key"), Options);

        OpenAIEmbedding embedding = await client.GenerateEmbeddingAsync("hello");

        Assert.Equal([0.25f, -0.5f, 0.75f], embedding.ToFloats().ToArray());
        Assert.Equal("/v1/embeddings", Upstream.SingleRequest.Path);
    }

    [Fact]
    public async Task FileUpload_FiveMegabytesMultipart_ArrivesByteExact()
    {
        var client = new OpenAIFileClient(new ApiKeyCredential("sk-test-client-key"), Options);
        var content = RandomNumberGenerator.GetBytes((5 * 1024 * 1024) + 12345);

        OpenAIFile file = await client.UploadFileAsync(BinaryData.FromBytes(content), "data.jsonl", FileUploadPurpose.Assistants);

        // The fake names the file after the SHA-256 of the file part it received.
        Assert.Equal("file-" + Convert.ToHexStringLower(SHA256.HashData(content)), file.Id);
        Assert.Equal(content.Length, file.SizeInBytes);
        Assert.StartsWith("multipart/form-data", Upstream.SingleRequest.Headers["Content-Type"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RateLimited_429_ReachesClientWithRetryAfter()
    {
        Upstream.Handler = (context, _) =>
        {
            context.Response.Headers.RetryAfter = "7";
            context.Response.Headers["x-ratelimit-remaining-requests"] = "0";
            return FakeResponses.JsonAsync(context,
                """{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}""", 429);
        };

        var exception = await Assert.ThrowsAsync<ClientResultException>(() => Chat.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(429, exception.Status);
        var response = exception.GetRawResponse()!;
        Assert.True(response.Headers.TryGetValue("retry-after", out var retryAfter));
        Assert.Equal("7", retryAfter);
        Assert.Contains("rate_limit_exceeded", response.Content.ToString(), StringComparison.Ordinal);
        Assert.Single(Upstream.Requests);
    }

    [Fact]
    public async Task ProxySideError_IsReadableByTheClient()
    {
        var options = Options;
        options.Endpoint = new Uri(Proxy.BaseAddress, "/"); // a base URL without /v1: the commonest set-up mistake

        var exception = await Assert.ThrowsAsync<ClientResultException>(() =>
            new ChatClient(FakeResponses.Model, new ApiKeyCredential("sk-test-client-key"), options).CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(404, exception.Status);
        Assert.Contains("/v1", exception.Message, StringComparison.Ordinal);
        Assert.Empty(Upstream.Requests);
    }
}
