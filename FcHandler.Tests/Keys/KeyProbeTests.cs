using System.Collections.Concurrent;
using System.Net;
using FcHandler.Keys;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Keys;

/// <summary>The pool's probe at FC's /initialize: every key asked GET /v1/models once, a refused one rested before a client meets it.</summary>
public sealed class KeyProbeTests : IDisposable
{
    private const string Subject = "static-1";
    private const string Chat = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""";

    private readonly TestCertificates _certificates = new();
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("fchandler-probe-");

    public void Dispose()
    {
        _certificates.Dispose();
        _temp.Delete(recursive: true);
    }

    private static async Task InitializeAsync(ProxyHost proxy)
    {
        using var initialize = FcCalls.Control(HttpMethod.Post, "/initialize", "init-probe");
        using var response = await proxy.Client.SendAsync(initialize);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static RecordedRequest[] Probes(FakeOpenAI upstream)
        => [.. upstream.Requests.Where(request => request is { Method: "GET", Path: "/v1/models" })];

    [Fact]
    public async Task InitializeProbe_RevokedKey_IsRestedAndLogged_TheNextRequestGoesStraightToAHealthyKey()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        var keys = new KeyedAnswers(upstream);
        var order = PoolKit.Order(Subject);
        keys[order[0]] = PoolKit.Answer(401, PoolKit.RevokedBody);
        await using var proxy = await ProxyHost.StartAsync(upstream, PoolKit.Settings());

        await InitializeAsync(proxy);

        // Each key asked once, with its own key.
        Assert.Equal(["a", "b", "c"], Probes(upstream).Select(PoolKit.KeyOf).Order());
        Assert.Contains(proxy.Logs.Lines, l => l.StartsWith("Error ", StringComparison.Ordinal)
            && l.Contains($"Key {order[0]} refused by OpenAI, out of service for 300s: 401 invalid_api_key", StringComparison.Ordinal)
            && l.EndsWith("request_id=initialize ", StringComparison.Ordinal));
        var probed = Assert.Single(proxy.Logs.Lines, l => l.Contains("[106] ", StringComparison.Ordinal));
        Assert.StartsWith("Warning ", probed, StringComparison.Ordinal);
        Assert.Contains("2 of 3 answered 200", probed, StringComparison.Ordinal);
        Assert.Contains($"{order[0]} 401 invalid_api_key", probed, StringComparison.Ordinal);
        Assert.Contains(proxy.Services.GetRequiredService<KeyPool>().Snapshot(), state => state.Key.Label == order[0] && state.Remaining > TimeSpan.FromMinutes(4));

        // The subject's first key is never tried: it rests already.
        var before = upstream.Requests.Count;
        using var response = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([order[1]], upstream.Requests.Skip(before).Select(PoolKit.KeyOf));
        var access = await proxy.Logs.WaitForLineAsync(l => l.Contains("POST /v1/chat/completions generation", StringComparison.Ordinal));
        Assert.Contains($"key={order[1]} keys_tried=1 ", access, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InitializeProbe_RateLimitedKey_RestsUntilItsReset_HealthyKeysAreLeftAlone()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        var keys = new KeyedAnswers(upstream);
        keys["b"] = PoolKit.Answer(429, PoolKit.RateLimitBody, ("retry-after", "40"));
        await using var proxy = await ProxyHost.StartAsync(upstream, PoolKit.Settings());

        await InitializeAsync(proxy);

        Assert.Contains(proxy.Logs.Lines, l => l.Contains("Key b cooling down for 40s: 429 rate_limit_exceeded", StringComparison.Ordinal));
        var states = proxy.Services.GetRequiredService<KeyPool>().Snapshot();
        Assert.Equal(["a", "c"], states.Where(state => state.Remaining == TimeSpan.Zero).Select(state => state.Key.Label));
        Assert.DoesNotContain(proxy.Logs.Lines, l => l.Contains("Key a ", StringComparison.Ordinal) || l.Contains("Key c ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task InitializeProbe_OverHttp2_RidesTheWarmupsConnection_NoHandshakeOfItsOwn()
    {
        await using var upstream = await FakeOpenAI.StartAsync(certificate: _certificates.Issue("127.0.0.1"));
        var seen = new ConcurrentQueue<(string Method, string Connection, string Protocol)>();
        upstream.Handler = (context, request) =>
        {
            seen.Enqueue((request.Method, context.Connection.Id, context.Request.Protocol));
            return FakeResponses.DefaultAsync(context, request);
        };
        var settings = PoolKit.Settings(("UPSTREAM_CA_FILE", _certificates.WriteAuthorityPem(_temp.FullName)));
        await using var proxy = await ProxyHost.StartAsync(upstream, settings);

        await InitializeAsync(proxy);

        // The warm-up's HEAD and the three probes: four streams of one HTTP/2 connection.
        Assert.Equal(["GET", "GET", "GET", "HEAD"], seen.Select(request => request.Method).Order());
        Assert.Single(seen.Select(request => request.Connection).Distinct());
        Assert.All(seen, request => Assert.Equal("HTTP/2", request.Protocol));
        Assert.Contains(proxy.Logs.Lines, l => l.StartsWith("Information ", StringComparison.Ordinal) && l.Contains("[106] ", StringComparison.Ordinal)
            && l.Contains("3 of 3 answered 200", StringComparison.Ordinal) && l.Contains("(a 200, b 200, c 200)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task InitializeProbe_SlowKey_InitializeAnswersWithinWarmupTimeout_AndTheKeyIsNotRested()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        var keys = new KeyedAnswers(upstream);
        var never = new TaskCompletionSource();
        keys["c"] = async (context, _) => await never.Task.WaitAsync(context.RequestAborted);
        await using var proxy = await ProxyHost.StartAsync(upstream, PoolKit.Settings(("WARMUP_TIMEOUT", "500ms")));

        await InitializeAsync(proxy);

        var probed = Assert.Single(proxy.Logs.Lines, l => l.Contains("[106] ", StringComparison.Ordinal));
        Assert.Contains("2 of 3 answered 200", probed, StringComparison.Ordinal);
        Assert.Contains("c no answer within WARMUP_TIMEOUT", probed, StringComparison.Ordinal);
        Assert.All(proxy.Services.GetRequiredService<KeyPool>().Snapshot(), state => Assert.Equal(TimeSpan.Zero, state.Remaining));
    }

    [Fact]
    public async Task InitializeProbe_OneKey_AsksOnce_ARefusalIsLoggedButRestsNothing()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        upstream.Handler = (context, request) => request.Path == "/v1/models"
            ? PoolKit.Answer(429, PoolKit.QuotaBody)(context, request)
            : FakeResponses.DefaultAsync(context, request);
        await using var proxy = await ProxyHost.StartAsync(upstream, AccessKit.ServerKeyMode());

        await InitializeAsync(proxy);

        var probe = Assert.Single(Probes(upstream));
        Assert.Equal("Bearer " + AccessKit.ServerKey, probe.Headers["Authorization"]);
        var probed = Assert.Single(proxy.Logs.Lines, l => l.Contains("[106] ", StringComparison.Ordinal));
        Assert.StartsWith("Warning ", probed, StringComparison.Ordinal);
        Assert.Contains("0 of 1 answered 200", probed, StringComparison.Ordinal);
        Assert.Contains("429 insufficient_quota", probed, StringComparison.Ordinal);
        Assert.DoesNotContain(proxy.Logs.Lines, l => l.Contains("cooling down", StringComparison.Ordinal) || l.Contains("[102] ", StringComparison.Ordinal));
        Assert.DoesNotContain(AccessKit.ServerKey, proxy.Logs.All, StringComparison.Ordinal);
    }
}
