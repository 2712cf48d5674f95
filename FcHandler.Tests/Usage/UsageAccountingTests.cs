using System.Net;
using System.Security.Cryptography;
using System.Text;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Usage;

/// <summary>The access line's model, usage, upstream status and error code, through the real proxy.</summary>
public sealed class UsageAccountingTests : ProxyTest
{
    private async Task<string> AccessLineAsync(string path)
        => await Proxy.Logs.WaitForLineAsync(l => l.Contains("[1] ", StringComparison.Ordinal) && l.Contains(path, StringComparison.Ordinal));

    private async Task<byte[]> PostAsync(string path, string json, string? acceptEncoding = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }

        using var response = await Proxy.Client.SendAsync(request);
        return await response.Content.ReadAsByteArrayAsync();
    }

    private void AnswerWith(string fixture, string contentType, string? encoding = null, int status = 200)
    {
        var body = UsageFixtures.Bytes(fixture);
        var sent = encoding is null ? body : ResponseObserverTests.Compress(body, encoding);
        Upstream.Handler = async (context, _) =>
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = contentType;
            if (encoding is not null)
            {
                context.Response.Headers.ContentEncoding = encoding;
            }

            // In pieces, as a network would deliver it.
            for (var offset = 0; offset < sent.Length; offset += 97)
            {
                await context.Response.Body.WriteAsync(sent.AsMemory(offset, Math.Min(97, sent.Length - offset)));
                await context.Response.Body.FlushAsync();
            }
        };
    }

    [Fact]
    public async Task StreamedChat_WithIncludeUsage_LogsTheFinalChunksUsage()
    {
        AnswerWith("chat-stream-include-usage.sse", "text/event-stream");

        var received = await PostAsync("/v1/chat/completions", """{"messages":[],"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}""");

        Assert.Equal(UsageFixtures.Bytes("chat-stream-include-usage.sse"), received);
        Assert.Contains(" model=gpt-4o-mini usage=input:22,output:712,cached:0,reasoning:0,total:734 error=- ", await AccessLineAsync("/v1/chat/completions"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StreamedChat_WithoutIncludeUsage_LogsNoUsage()
    {
        AnswerWith("chat-stream-no-usage.sse", "text/event-stream");

        await PostAsync("/v1/chat/completions", """{"model":"gpt-4o-mini","stream":true,"messages":[]}""");

        Assert.Contains(" model=gpt-4o-mini usage=- error=- ", await AccessLineAsync("/v1/chat/completions"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResponsesStream_LogsTheCompletedEventsUsage()
    {
        AnswerWith("responses-stream.sse", "text/event-stream; charset=utf-8");

        await PostAsync("/v1/responses", """{"model":"o4-mini","input":"Hello","stream":true}""");

        Assert.Contains(" model=o4-mini usage=input:1250,output:466,cached:1024,reasoning:384,total:1716 ", await AccessLineAsync("/v1/responses"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    [InlineData("deflate")]
    public async Task CompressedAnswer_ReachesTheClientUnchanged_AndItsUsageIsLogged(string encoding)
    {
        AnswerWith("chat-completion.json", "application/json", encoding);

        var received = await PostAsync("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[]}""", acceptEncoding: encoding);

        Assert.Equal(SHA256.HashData(ResponseObserverTests.Compress(UsageFixtures.Bytes("chat-completion.json"), encoding)), SHA256.HashData(received));
        Assert.Contains(" usage=input:2006,output:300,cached:1920,reasoning:0,total:2306 ", await AccessLineAsync("/v1/chat/completions"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transcription_LogsTheMultipartModelAndItsUsage()
    {
        AnswerWith("transcription.json", "application/json");
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent([1, 2, 3]), "file", "a.wav" },
            { new StringContent("gpt-4o-mini-transcribe"), "model" },
        };

        using var response = await Proxy.Client.PostAsync(new Uri("/v1/audio/transcriptions", UriKind.Relative), form);

        Assert.Contains(" model=gpt-4o-mini-transcribe usage=input:17,output:11,total:28 ", await AccessLineAsync("/v1/audio/transcriptions"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadOfAStoredAnswer_IsNotCountedAgain()
    {
        AnswerWith("responses.json", "application/json");

        using var response = await Proxy.Client.GetAsync(new Uri("/v1/responses/resp_68c1f0a2b3", UriKind.Relative));

        Assert.Contains(" model=- usage=- ", await AccessLineAsync("/v1/responses/resp_68c1f0a2b3"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamError_LogsItsStatusAndCode_AndPassesUnchanged()
    {
        AnswerWith("error-429-quota.json", "application/json", status: 429);

        var received = await PostAsync("/v1/embeddings", """{"model":"text-embedding-3-small","input":"x"}""");

        Assert.Equal(UsageFixtures.Bytes("error-429-quota.json"), received);
        Assert.Contains(" 429 upstream=429 ", await AccessLineAsync("/v1/embeddings"), StringComparison.Ordinal);
        Assert.Contains(" error=insufficient_quota ", await AccessLineAsync("/v1/embeddings"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProxysOwnError_LogsItsCodeAndNoUpstreamStatus()
    {
        using var response = await Proxy.Client.GetAsync(new Uri("/v2/models", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var line = await AccessLineAsync("/v2/models");
        Assert.Contains(" 404 upstream=- upstream_ttfb=-ms ", line, StringComparison.Ordinal);
        Assert.Contains(" error=unknown_url ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelNameWithControlCharacters_CannotForgeALogLine()
    {
        await PostAsync("/v1/chat/completions", """{"model":"gpt-4o\n2026-01-01T00:00:00.000Z info AccessLogMiddleware[1] forged","messages":[]}""");

        var line = await AccessLineAsync("/v1/chat/completions");
        Assert.Contains(" model=gpt-4o_2026-01-01T00:00:00.000Z_info_AccessLogMiddleware[1]_forged ", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line.TrimEnd());
    }
}
