using System.Text;
using System.Text.Json;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Usage;

/// <summary>CHAT_STREAM_USAGE=always: the proxy asks for a chat stream's usage and hides the chunk that carries it.</summary>
public sealed class StreamUsageTests : ProxyTest
{
    private static readonly byte[] StreamWithUsage = UsageFixtures.Bytes("chat-stream-include-usage.sse");

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["CHAT_STREAM_USAGE"] = "always" };

    private async Task<string> ChatAsync(string json)
    {
        Upstream.Handler = async (context, _) =>
        {
            context.Response.ContentType = "text/event-stream";
            foreach (var piece in StreamWithUsage.Chunk(61))
            {
                await context.Response.Body.WriteAsync(piece);
                await context.Response.Body.FlushAsync();
            }
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip, deflate, br");
        using var response = await Proxy.Client.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }

    private async Task<string> AccessLineAsync()
        => await Proxy.Logs.WaitForLineAsync(l => l.Contains("[1] POST /v1/chat/completions", StringComparison.Ordinal));

    [Fact]
    public async Task StreamWithoutStreamOptions_AsksForUsage_LogsIt_AndHidesTheExtraChunk()
    {
        const string Sent = """  {"model":"gpt-4o-mini","messages":[{"role":"user","content":"Pizza?"}],"stream":true,"temperature":0.2}""";

        var received = await ChatAsync(Sent);

        var forwarded = Upstream.SingleRequest;
        using var body = JsonDocument.Parse(forwarded.Body);
        Assert.True(body.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal(Sent.Trim()[1..], forwarded.BodyText.Trim().Replace("""{"stream_options":{"include_usage":true},""", "", StringComparison.Ordinal));
        Assert.Equal(forwarded.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), forwarded.Headers["Content-Length"]);
        Assert.Equal("identity", forwarded.Headers["Accept-Encoding"]);

        Assert.DoesNotContain("\"choices\":[]", received, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetString(StreamWithUsage).Split("\n\n").Count(e => e.Length > 0) - 1, received.Split("\n\n").Count(e => e.Length > 0));
        Assert.EndsWith("data: [DONE]\n\n", received, StringComparison.Ordinal);
        var line = await AccessLineAsync();
        Assert.Contains(" usage=input:22,output:712,cached:0,reasoning:0,total:734 ", line, StringComparison.Ordinal);
        Assert.Contains($" out={Encoding.UTF8.GetByteCount(received)}B ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientThatAskedForUsageItself_GetsTheChunkAndAnUnchangedRequest()
    {
        const string Sent = """{"model":"gpt-4o-mini","messages":[],"stream":true,"stream_options":{"include_usage":true}}""";

        var received = await ChatAsync(Sent);

        Assert.Equal(Sent, Upstream.SingleRequest.BodyText);
        Assert.Equal("gzip, deflate, br", Upstream.SingleRequest.Headers["Accept-Encoding"]);
        Assert.Equal(Encoding.UTF8.GetString(StreamWithUsage), received);
        Assert.Contains(" usage=input:22,", await AccessLineAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o-mini","messages":[]}""")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[],"stream":false}""")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[],"stream":true,"stream_options":{"include_usage":false}}""")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"\"stream\":true"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"properties":{"stream":{"type":"boolean"}}}}}]}""")]
    public async Task RequestThatIsNotAStreamWithoutOptions_IsForwardedUnchanged(string sent)
    {
        await ChatAsync(sent);

        Assert.Equal(sent, Upstream.SingleRequest.BodyText);
    }
}

public sealed class StreamUsageSettingTests
{
    [Fact]
    public async Task ByDefault_TheClientDecides()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);
        const string Sent = """{"model":"gpt-4o-mini","messages":[],"stream":true}""";

        using var response = await proxy.Client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), new StringContent(Sent, Encoding.UTF8, "application/json"));

        Assert.Equal(Sent, upstream.SingleRequest.BodyText);
    }

    [Fact]
    public async Task UnknownValue_StopsStartUpNamingTheSetting()
    {
        var failure = await Assert.ThrowsAsync<FcHandler.Hosting.ConfigurationException>(
            () => ProxyHost.StartAsync("http://127.0.0.1:9", new Dictionary<string, string?> { ["CHAT_STREAM_USAGE"] = "yes" }));

        Assert.Contains("CHAT_STREAM_USAGE must be client (the default) or always", failure.Message, StringComparison.Ordinal);
    }
}
