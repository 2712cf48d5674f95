using System.Net;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Keys;

/// <summary>Each failover rule of the key pool, through real sockets: a fake upstream answering per key, the proxy in front.</summary>
public sealed class KeyFailoverTests : ProxyTest
{
    private const string Subject = "static-1";
    private const string Chat = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""";

    private KeyedAnswers _keys = null!;

    protected override IDictionary<string, string?> Settings => PoolKit.Settings(("GENERATION_TIMEOUT", "1s"));

    private static string First => PoolKit.Order(Subject)[0];

    private static string Second => PoolKit.Order(Subject)[1];

    private static string Third => PoolKit.Order(Subject)[2];

    private KeyedAnswers Keys => _keys ??= new KeyedAnswers(Upstream);

    private async Task<HttpResponseMessage> ChatAsync()
        => await Proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken));

    private string[] KeysSeen => [.. Upstream.Requests.Select(PoolKit.KeyOf)];

    private Task<string> AccessLineAsync() => Proxy.Logs.WaitForLineAsync(line => line.Contains("POST /v1/chat/completions generation", StringComparison.Ordinal));

    [Fact]
    public async Task RateLimitedKey_FailsOverWithTheSameBody_AndRestsUntilItsReset()
    {
        Keys[First] = PoolKit.Answer(429, PoolKit.RateLimitBody, ("x-ratelimit-reset-requests", "20s"), ("x-ratelimit-reset-tokens", "6m0s"));

        using var response = await ChatAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([First, Second], KeysSeen);
        Assert.All(Upstream.Requests, request => Assert.Equal(Chat, request.BodyText));
        await Proxy.Logs.WaitForLineAsync(line => line.Contains($"Key {First} cooling down for 360s: 429 rate_limit_exceeded", StringComparison.Ordinal));
        var access = await AccessLineAsync();
        Assert.Contains($"key={Second} keys_tried=2 ", access, StringComparison.Ordinal);

        // Resting: the next request goes straight to the second key.
        using var next = await ChatAsync();
        Assert.Equal([First, Second, Second], KeysSeen);
    }

    [Fact]
    public async Task OutOfQuotaKey_FailsOver_AndIsOutForLongWithAnErrorLine()
    {
        Keys[First] = PoolKit.Answer(429, PoolKit.QuotaBody);

        using var response = await ChatAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([First, Second], KeysSeen);
        var line = await Proxy.Logs.WaitForLineAsync(l => l.Contains($"Key {First} refused by OpenAI, out of service for 300s: 429 insufficient_quota", StringComparison.Ordinal));
        Assert.StartsWith("Error ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RevokedKey_401_FailsOver()
    {
        Keys[First] = PoolKit.Answer(401, PoolKit.RevokedBody);

        using var response = await ChatAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([First, Second], KeysSeen);
        await Proxy.Logs.WaitForLineAsync(l => l.Contains($"Key {First} refused by OpenAI, out of service for 300s: 401 invalid_api_key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AccountRefused_403_FailsOver()
    {
        Keys[First] = PoolKit.Answer(403, """{"error":{"message":"Your account has been deactivated.","type":"invalid_request_error","param":null,"code":"account_deactivated"}}""");

        using var response = await ChatAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([First, Second], KeysSeen);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    public async Task ServerError_FailsOver_WithAShortRest(int status)
    {
        Keys[First] = PoolKit.Answer(status, """{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}""");

        using var response = await ChatAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([First, Second], KeysSeen);
        await Proxy.Logs.WaitForLineAsync(l => l.Contains($"Key {First} cooling down for 5s: {status} from the upstream", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(413)]
    [InlineData(422)]
    [InlineData(504)]
    public async Task ClientErrorOrGatewayTimeout_NoFailover_TheClientGetsItAsSent(int status)
    {
        var body = $$$"""{"error":{"message":"answer {{{status}}}","type":"invalid_request_error","param":null,"code":"code_{{{status}}}"}}""";
        Keys[First] = PoolKit.Answer(status, body);

        using var response = await ChatAsync();

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
        Assert.Equal([First], KeysSeen);
        Assert.DoesNotContain("cooling down", Proxy.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RegionRefused_403_NoFailover()
    {
        Keys[First] = PoolKit.Answer(403, """{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","param":null,"code":"unsupported_country_region_territory"}}""");

        using var response = await ChatAsync();

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal([First], KeysSeen);
    }

    [Fact]
    public async Task SlowKey_TimesOut_NoFailover()
    {
        var released = new TaskCompletionSource();
        Keys[First] = async (context, _) => await released.Task.WaitAsync(context.RequestAborted);

        using var response = await ChatAsync();
        released.SetResult();

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("upstream_timeout", await AccessKit.ErrorCodeOf(response));
        Assert.Equal([First], KeysSeen);
    }

    [Fact]
    public async Task CutAfterTheFirstByte_NoFailover()
    {
        var firstByteArrived = new TaskCompletionSource();
        Keys[First] = async (context, _) =>
        {
            await FakeResponses.StartSseAsync(context);
            await FakeResponses.WriteEventAsync(context, FakeResponses.ChatChunk("first"));
            await firstByteArrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
            context.Abort();
        };

        using var response = await Proxy.Client.SendAsync(
            AccessKit.Post("/v1/chat/completions", Chat.Replace("}]}", "}],\"stream\":true}", StringComparison.Ordinal), AccessKit.StaticToken),
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStreamAsync();
        Assert.True(await body.ReadAsync(new byte[1]) > 0);
        firstByteArrived.SetResult();
        await Assert.ThrowsAnyAsync<IOException>(async () => await body.CopyToAsync(Stream.Null));

        Assert.Equal([First], KeysSeen);
    }

    [Fact]
    public async Task EveryKeyRateLimited_TheClientGetsTheLastAnswerUnchanged()
    {
        Keys[First] = PoolKit.Answer(429, PoolKit.RateLimitBody, ("x-ratelimit-reset-requests", "1s"));
        Keys[Second] = PoolKit.Answer(429, PoolKit.QuotaBody);
        Keys[Third] = PoolKit.Answer(429, PoolKit.RateLimitBody.Replace("org-x", "org-third", StringComparison.Ordinal), ("x-ratelimit-reset-requests", "7s"), ("x-request-id", "req_third"));

        using var response = await ChatAsync();

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(PoolKit.RateLimitBody.Replace("org-x", "org-third", StringComparison.Ordinal), await response.Content.ReadAsStringAsync());
        Assert.Equal("7s", response.Headers.GetValues("x-ratelimit-reset-requests").Single());
        Assert.Equal("req_third", response.Headers.GetValues("x-request-id").Single());
        Assert.Equal([First, Second, Third], KeysSeen);
        Assert.Contains($"key={Third} keys_tried=3 ", await AccessLineAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LargeSpooledBody_IsSentWholeToTheNextKey()
    {
        Keys[First] = PoolKit.Answer(429, PoolKit.RateLimitBody);
        var large = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"" """.TrimEnd() + new string('x', 300_000) + "\"}]}";

        using var response = await Proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", large, AccessKit.StaticToken));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([First, Second], KeysSeen);
        Assert.All(Upstream.Requests, request => Assert.Equal(large, request.BodyText));
    }

    [Fact]
    public async Task ServedKeysRateLimitHeaders_AreTheOnesTheClientGets()
    {
        Keys[First] = PoolKit.Answer(429, PoolKit.RateLimitBody, ("x-ratelimit-remaining-requests", "0"));
        Keys[Second] = PoolKit.Answer(200, FakeResponses.ChatCompletion("hi"), ("x-ratelimit-remaining-requests", "4999"));

        using var response = await ChatAsync();

        Assert.Equal("4999", response.Headers.GetValues("x-ratelimit-remaining-requests").Single());
    }

    [Fact]
    public async Task Secrets_NeverReachALogLine()
    {
        Keys[First] = PoolKit.Answer(401, PoolKit.RevokedBody);
        using var response = await ChatAsync();
        await AccessLineAsync();

        foreach (var secret in PoolKit.Secrets.Values)
        {
            Assert.DoesNotContain(secret, Proxy.Logs.All, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ConnectFailure_FailsOverToTheNextKey_WithAShortRest()
    {
        // A proxy whose first connection attempt finds no upstream (the name does not resolve), the next ones do.
        var resolver = new SwitchableResolver { Target = SwitchableResolver.Loopback(Upstream.BaseAddress.Port) };
        resolver.OnLookup = attempt => resolver.Target = attempt == 1 ? null : SwitchableResolver.Loopback(Upstream.BaseAddress.Port);
        await using var proxy = await ProxyHost.StartAsync("http://api.openai.test", PoolKit.Settings(), resolver.AddTo);

        using var response = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([Second], KeysSeen);
        await proxy.Logs.WaitForLineAsync(l => l.Contains($"Key {First} cooling down for 5s: no connection (NameResolutionError", StringComparison.Ordinal));
    }
}
