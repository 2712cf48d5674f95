using System.Text;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Proxy;

/// <summary>PROXY_FORWARD_HEADERS at work: the operator's names and prefixes reach the upstream, nothing else does.</summary>
public sealed class ForwardHeadersTests : ProxyTest
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["PROXY_FORWARD_HEADERS"] = "x-my-trace-id, x-codex-*, traceparent",
    };

    private async Task<RecordedRequest> SendAsync(params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","input":"hi"}""", Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await Proxy.Client.SendAsync(request); // the fake has no /v1/responses: its 404 is enough
        return Upstream.SingleRequest;
    }

    [Theory]
    [InlineData("x-my-trace-id", "trace-42")]
    [InlineData("X-My-Trace-Id", "trace-42")]
    [InlineData("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
    [InlineData("x-codex-turn-metadata", """{"turn_id":"t-1","sandbox":"seatbelt"}""")]
    [InlineData("X-Codex-Something-New", "v2")]
    public async Task ListedHeader_ReachesUpstreamUnchanged(string name, string value)
    {
        var upstream = await SendAsync((name, value));

        Assert.Equal(value, upstream.Headers[name]);
    }

    [Theory]
    [InlineData("x-my-trace-id-2", "near-miss")]
    [InlineData("tracestate", "vendor=user")]
    [InlineData("x-codex", "no-dash")]
    public async Task UnlistedHeader_IsStillDropped(string name, string value)
    {
        var upstream = await SendAsync((name, value));

        Assert.False(upstream.Headers.ContainsKey(name), $"{name} reached the upstream");
    }

    [Fact]
    public async Task ListedAndIdentityHeadersMixed_OnlyTheListedAndBuiltInOnesArrive()
    {
        var upstream = await SendAsync(
            ("x-my-trace-id", "trace-42"),
            ("x-codex-turn-state", "turn-state-token"),
            ("X-Forwarded-For", "203.0.113.7"),
            ("CF-IPCountry", "CN"),
            ("x-fc-security-token", "fc-token"),
            ("Accept-Language", "zh-CN"));

        var names = upstream.Headers.Keys.Select(k => k.ToLowerInvariant()).Order();
        Assert.Equal(["content-length", "content-type", "host", "x-codex-turn-state", "x-my-trace-id"], names);
    }

    [Fact]
    public async Task StartUp_WithForwardHeaders_NamesThemInTheLog()
    {
        var line = await Proxy.Logs.WaitForLineAsync(l => l.Contains("(PROXY_FORWARD_HEADERS)", StringComparison.Ordinal));

        Assert.Contains("[80] Also forwarding the request headers x-my-trace-id, x-codex-*, traceparent (PROXY_FORWARD_HEADERS)", line, StringComparison.Ordinal);
    }
}
