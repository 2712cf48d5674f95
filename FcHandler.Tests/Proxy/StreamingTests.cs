using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Proxy;

public sealed class StreamingTests
{
    [Fact]
    public async Task Stream_FirstEvent_ReachesClientWhileUpstreamWithholdsSecond()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        var firstEventRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondEventSent = false;
        upstream.Handler = async (context, _) =>
        {
            await FakeResponses.FirstChunkThenWaitAsync(context, firstEventRead.Task);
            secondEventSent = true;
            await FakeResponses.WriteEventAsync(context, FakeResponses.ChatChunk("second"));
            await FakeResponses.WriteEventAsync(context, "[DONE]");
        };
        await using var proxy = await ProxyHost.StartAsync(upstream);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","stream":true,"messages":[]}""", Encoding.UTF8, "application/json"),
        };
        using var response = await proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var first = await reader.ReadLineAsync();
        Assert.False(secondEventSent, "the upstream had already sent the second event");
        Assert.Contains("first", first, StringComparison.Ordinal);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        firstEventRead.SetResult();

        var rest = await reader.ReadToEndAsync();
        Assert.Contains("second", rest, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", rest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompressedBody_PassesThroughEncodedAndUnchanged()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        var json = Encoding.UTF8.GetBytes(FakeResponses.ChatCompletion(new string('x', 4096)));
        using var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            await gzip.WriteAsync(json);
        }

        var encoded = compressed.ToArray();
        upstream.Handler = async (context, _) =>
        {
            context.Response.ContentType = "application/json";
            context.Response.Headers.ContentEncoding = "gzip";
            await context.Response.Body.WriteAsync(encoded);
        };
        await using var proxy = await ProxyHost.StartAsync(upstream);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("{}") };
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip, br");
        using var response = await proxy.Client.SendAsync(request);
        var received = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("gzip, br", upstream.SingleRequest.Headers["Accept-Encoding"]);
        Assert.Equal(["gzip"], response.Content.Headers.ContentEncoding);
        Assert.Equal(SHA256.HashData(encoded), SHA256.HashData(received));
    }

    [Fact]
    public async Task LargeRequestBody_ArrivesByteExact()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        upstream.Handler = (context, _) => FakeResponses.JsonAsync(context, "{}");
        await using var proxy = await ProxyHost.StartAsync(upstream);
        var body = RandomNumberGenerator.GetBytes(8 * 1024 * 1024);

        using var content = new ByteArrayContent(body);
        using var response = await proxy.Client.PostAsync(new Uri("/v1/audio/transcriptions", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SHA256.HashData(body), SHA256.HashData(upstream.SingleRequest.Body));
    }
}
