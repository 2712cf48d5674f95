using System.Text;
using System.Text.Json;
using FcHandler.Logging;
using FcHandler.Tests.Infrastructure;
using FcHandler.Tests.Usage;
using FcHandler.Usage;

namespace FcHandler.Tests.Logging;

/// <summary>LOG_FORMAT=json: one object per line, with the fields docs/logs-and-usage.md documents.</summary>
public sealed class JsonLogTests
{
    private static JsonElement Parse(string line)
    {
        Assert.EndsWith("\n", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line[..^1]);
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    private static async Task<JsonElement> AccessLineAsync(ProxyHost proxy, string path)
    {
        await proxy.Logs.WaitForLineAsync(l => l.Contains("[1] ", StringComparison.Ordinal) && l.Contains(path, StringComparison.Ordinal));
        return proxy.Logs.JsonLines.Where(l => l.StartsWith('{')).Select(Parse).Single(e => e.GetProperty("event").GetString() == "access" && e.GetProperty("path").GetString() == path);
    }

    [Fact]
    public async Task AccessLine_ForAChatCompletion_CarriesEveryDocumentedField()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        upstream.Handler = (context, _) => FakeResponses.JsonAsync(context, Encoding.UTF8.GetString(UsageFixtures.Bytes("chat-completion.json")));
        await using var proxy = await ProxyHost.StartAsync(upstream);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","messages":[]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-fc-request-id", "1-fc-req");
        using var response = await proxy.Client.SendAsync(request);

        var line = await AccessLineAsync(proxy, "/v1/chat/completions");

        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", line.GetProperty("time").GetString());
        Assert.Equal("info", line.GetProperty("level").GetString());
        Assert.Equal("1-fc-req", line.GetProperty("request_id").GetString());
        Assert.Equal("POST", line.GetProperty("method").GetString());
        Assert.Equal("generation", line.GetProperty("route").GetString());
        Assert.Equal(200, line.GetProperty("status").GetInt32());
        Assert.Equal(200, line.GetProperty("upstream_status").GetInt32());
        Assert.True(line.GetProperty("upstream_ttfb_ms").GetDouble() > 0);
        Assert.True(line.GetProperty("total_ms").GetDouble() >= line.GetProperty("upstream_ttfb_ms").GetDouble());
        Assert.Equal(37, line.GetProperty("bytes_in").GetInt64());
        Assert.Equal(response.Content.Headers.ContentLength ?? (await response.Content.ReadAsByteArrayAsync()).Length, line.GetProperty("bytes_out").GetInt64());
        Assert.Equal("gpt-4o-mini", line.GetProperty("model").GetString());
        var usage = line.GetProperty("usage");
        Assert.Equal((2006, 300, 1920, 0, 2306), (
            usage.GetProperty("input_tokens").GetInt64(), usage.GetProperty("output_tokens").GetInt64(), usage.GetProperty("cached_tokens").GetInt64(),
            usage.GetProperty("reasoning_tokens").GetInt64(), usage.GetProperty("total_tokens").GetInt64()));

        // Absent values are left out rather than written as "-".
        Assert.False(line.TryGetProperty("subject", out _));
        Assert.False(line.TryGetProperty("error_code", out _));
        Assert.False(line.TryGetProperty("msg", out _));
    }

    [Fact]
    public async Task AccessLine_ForAProxyError_CarriesTheCodeAndNoUpstreamFields()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);

        using var response = await proxy.Client.GetAsync(new Uri("/nope", UriKind.Relative));
        var line = await AccessLineAsync(proxy, "/nope");

        Assert.Equal(404, line.GetProperty("status").GetInt32());
        Assert.Equal("unknown_url", line.GetProperty("error_code").GetString());
        Assert.Equal("rejected", line.GetProperty("route").GetString());
        Assert.False(line.TryGetProperty("upstream_status", out _));
        Assert.False(line.TryGetProperty("upstream_ttfb_ms", out _));
        Assert.False(line.TryGetProperty("usage", out _));
    }

    [Fact]
    public async Task EveryLine_OfAProxysLife_IsOneJsonObjectOrABareFcMarker()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);
        using (var initialize = FcCalls.Control(HttpMethod.Post, "/initialize", "init-1"))
        using (await proxy.Client.SendAsync(initialize))
        {
        }

        using (await proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative)))
        {
        }

        await proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/models", StringComparison.Ordinal));
        Assert.Contains(proxy.Logs.JsonLines, l => l == "FC Initialize Start RequestId: init-1\n");
        var objects = proxy.Logs.JsonLines.Where(l => !l.StartsWith("FC ", StringComparison.Ordinal)).Select(Parse).ToList();
        Assert.Contains(objects, e => e.GetProperty("event").GetString() == "warmup_done" && e.GetProperty("status").GetInt32() > 0);
        Assert.Contains(objects, e => e.GetProperty("event").GetString() == "pass_through_key_mode" && e.GetProperty("msg").GetString()!.StartsWith("Access control off", StringComparison.Ordinal));
        Assert.All(objects, e => Assert.True(e.TryGetProperty("time", out _) && e.TryGetProperty("level", out _) && e.TryGetProperty("category", out _)));
    }

    [Fact]
    public void Exception_IsOneFieldOfTheSameLine()
    {
        var line = Parse(JsonLogLine.Format("FcHandler.Logging.AccessLogMiddleware", LogLevel.Error, new EventId(3, "Unhandled"),
            new[] { new KeyValuePair<string, object?>("RequestId", "r\n1"), new("{OriginalFormat}", "x") }, new InvalidOperationException("boom"), (_, _) => "Unhandled failure"));

        Assert.Equal("error", line.GetProperty("level").GetString());
        Assert.Equal("unhandled", line.GetProperty("event").GetString());
        Assert.Equal("r\n1", line.GetProperty("request_id").GetString());
        Assert.StartsWith("System.InvalidOperationException: boom", line.GetProperty("exception").GetString(), StringComparison.Ordinal);
        Assert.False(line.TryGetProperty("{OriginalFormat}", out _));
    }

    [Fact]
    public void UsageWithOnlySeconds_IsAnObjectWithSeconds()
    {
        var line = Parse(JsonLogLine.Format("c", LogLevel.Information, new EventId(99, "X"),
            new[] { new KeyValuePair<string, object?>("Usage", new UsageLogValue(new TokenUsage(null, null, null, null, null, 2.5))) }, null, (_, _) => "m"));

        Assert.Equal("""{"seconds":2.5}""", line.GetProperty("usage").GetRawText());
    }

    [Theory]
    [InlineData(null, null, "Text")]
    [InlineData(null, "openai-proxy", "Json")]
    [InlineData("text", "openai-proxy", "Text")]
    [InlineData("JSON", null, "Json")]
    public void LogFormat_DefaultsToJsonInFc(string? setting, string? functionName, string expected)
    {
        var settings = new[] { ("LOG_FORMAT", setting), ("FC_FUNCTION_NAME", functionName) }.Where(s => s.Item2 is not null).Select(s => (s.Item1, s.Item2!));

        Assert.Equal(expected, LogFormats.Read(TestSettings.Of([.. settings])).ToString());
    }

    [Fact]
    public async Task LogFormat_Unknown_StopsStartUpNamingTheSetting()
    {
        var failure = await Assert.ThrowsAsync<FcHandler.Hosting.ConfigurationException>(
            () => ProxyHost.StartAsync("http://127.0.0.1:9", new Dictionary<string, string?> { ["LOG_FORMAT"] = "xml" }));

        Assert.Contains("LOG_FORMAT must be json or text", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StdoutProvider_InJsonFormat_WritesJsonLines()
    {
        using var output = new MemoryStream();
        var provider = new StdoutLoggerProvider(output, LogFormat.Json);
        var logger = provider.CreateLogger("FcHandler.Fc.UpstreamWarmup");
        ProxyLog.WarmupDone(logger, 404);
        ProxyLog.InvokeStart(logger, "r-1");
        provider.Dispose();

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(404, Parse(lines[0] + "\n").GetProperty("status").GetInt32());
        Assert.Equal("FC Invoke Start RequestId: r-1", lines[1]);
    }
}
