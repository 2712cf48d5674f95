using System.Text;
using System.Text.Json;
using FcHandler.Hosting;
using FcHandler.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FcHandler.Tests.Proxy;

/// <summary>
/// SSE_HEARTBEAT through real sockets: the fake upstream goes silent mid-stream, the proxy's clock (a fake
/// TimeProvider) is moved on, and the client reads what the proxy wrote meanwhile.
/// </summary>
public sealed class SseHeartbeatTests : IAsyncLifetime
{
    private const string Comment = ": keep-alive\n\n";
    private const string UsageChunk = """{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}""";

    private readonly ObservedTimeProvider _time = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FakeOpenAI _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeOpenAI.StartAsync();

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        await _upstream.DisposeAsync();
    }

    private Task<ProxyHost> StartProxyAsync(string? heartbeat = null)
        => ProxyHost.StartAsync(_upstream.BaseAddress.ToString(), new Dictionary<string, string?>
        {
            ["IDLE_TRIM_AFTER"] = "off", // its timer would be the only other one on this clock
            ["SSE_HEARTBEAT"] = heartbeat,
        }, services => services.TryAddSingleton<TimeProvider>(_time));

    /// <summary>Headers and a first chunk, then silence until the test releases the rest: a chunk, usage, [DONE].</summary>
    private async Task QuietStreamAsync(HttpContext context)
    {
        await FakeResponses.StartSseAsync(context);
        await FakeResponses.WriteEventAsync(context, FakeResponses.ChatChunk("thinking"));
        _arrived.TrySetResult();
        await _release.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await FakeResponses.WriteEventAsync(context, FakeResponses.ChatChunk("answer"));
        await FakeResponses.WriteEventAsync(context, UsageChunk);
        await FakeResponses.WriteEventAsync(context, "[DONE]");
    }

    private static HttpRequestMessage StreamRequest() => new(HttpMethod.Post, "/v1/chat/completions")
    {
        Content = new StringContent("""{"model":"gpt-4o-mini","stream":true,"messages":[]}""", Encoding.UTF8, "application/json"),
    };

    [Fact]
    public async Task QuietStream_EachIntervalOfSilence_OneCommentBetweenEvents_UsageAndBytesUntouched()
    {
        _upstream.Handler = (context, _) => QuietStreamAsync(context);
        await using var proxy = await StartProxyAsync();
        var armed = _time.NextTimer();
        using var request = StreamRequest();
        using var response = await proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Contains("thinking", await reader.ReadLineAsync(), StringComparison.Ordinal);
        Assert.Equal("", await reader.ReadLineAsync());
        await armed;

        // 14 s of silence: nothing yet. At 15 s, a comment; 15 s later, another.
        _time.Advance(TimeSpan.FromSeconds(14));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(": keep-alive", await reader.ReadLineAsync());
        Assert.Equal("", await reader.ReadLineAsync());
        _time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(": keep-alive", await reader.ReadLineAsync());
        Assert.Equal("", await reader.ReadLineAsync());

        _release.SetResult();
        var rest = await reader.ReadToEndAsync();
        Assert.Equal($"data: {FakeResponses.ChatChunk("answer")}\n\ndata: {UsageChunk}\n\ndata: [DONE]\n\n", rest);

        // The access line counts the upstream's body without the comments, and reads its usage.
        var line = await AccessLineAsync(proxy);
        var relayed = Encoding.UTF8.GetByteCount($"data: {FakeResponses.ChatChunk("thinking")}\n\n" + rest);
        Assert.Equal(relayed, line.GetProperty("bytes_out").GetInt64());
        Assert.Equal(18, line.GetProperty("usage").GetProperty("total_tokens").GetInt64());
    }

    [Fact]
    public async Task UpstreamSilentBeforeItsHeaders_NothingWritten_ErrorKeepsStatusAndBody()
    {
        const string Error = """{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}""";
        _upstream.Handler = async (context, _) =>
        {
            _arrived.TrySetResult();
            await _release.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await FakeResponses.JsonAsync(context, Error, 429);
        };
        await using var proxy = await StartProxyAsync();
        using var request = StreamRequest();
        var sending = proxy.Client.SendAsync(request);
        await _arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));

        _time.Advance(TimeSpan.FromMinutes(2));
        _release.SetResult();

        using var response = await sending;
        Assert.Equal(429, (int)response.StatusCode);
        Assert.Equal(Error, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task HeartbeatOff_QuietStream_NoComment()
    {
        _upstream.Handler = (context, _) => QuietStreamAsync(context);
        await using var proxy = await StartProxyAsync("off");
        using var request = StreamRequest();
        using var response = await proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var body = response.Content.ReadAsStringAsync();
        await _arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));

        _time.Advance(TimeSpan.FromMinutes(2));
        _release.SetResult();

        Assert.DoesNotContain(Comment, await body, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", await body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QuietStream_OfficialClient_ReadsEveryChunkAndIgnoresComments()
    {
        _upstream.Handler = (context, _) => QuietStreamAsync(context);
        await using var proxy = await StartProxyAsync();
        var armed = _time.NextTimer();
        var client = new OpenAI.Chat.ChatClient("gpt-4o-mini", new System.ClientModel.ApiKeyCredential("sk-test"), new OpenAI.OpenAIClientOptions { Endpoint = proxy.OpenAIEndpoint });
        var texts = new List<string>();
        await foreach (var update in client.CompleteChatStreamingAsync([new OpenAI.Chat.UserChatMessage("hi")]))
        {
            texts.AddRange(update.ContentUpdate.Select(part => part.Text));
            if (texts.Count == 1)
            {
                await armed;
                _time.Advance(TimeSpan.FromSeconds(15));
                _time.Advance(TimeSpan.FromSeconds(15));
                _release.SetResult();
            }
        }

        Assert.Equal(["thinking", "answer"], texts);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-5s")]
    [InlineData("2d")]
    public void Read_InvalidHeartbeat_ThrowsNamingTheSetting(string value)
    {
        var exception = Assert.Throws<ConfigurationException>(() => ProxyOptionsReader.Read(TestSettings.Of(("SSE_HEARTBEAT", value))));
        Assert.Contains("SSE_HEARTBEAT", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, 15)]
    [InlineData("", 15)]
    [InlineData("0", 0)]
    [InlineData("off", 0)]
    [InlineData("30s", 30)]
    public void Read_Heartbeat_DefaultOffOrDuration(string? value, int seconds)
    {
        var settings = value is null ? TestSettings.Of() : TestSettings.Of(("SSE_HEARTBEAT", value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), ProxyOptionsReader.Read(settings).SseHeartbeat);
    }

    private static async Task<JsonElement> AccessLineAsync(ProxyHost proxy)
    {
        await proxy.Logs.WaitForLineAsync(l => l.Contains("/v1/chat/completions", StringComparison.Ordinal) && l.Contains("200", StringComparison.Ordinal));
        return proxy.Logs.JsonLines.Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .Single(e => e.GetProperty("event").GetString() == "access");
    }
}
