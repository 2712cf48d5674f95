using System.Net;
using FcHandler.Keys;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Keys;

/// <summary>
/// Cooldowns shared through LIMITS_STORE between two proxy processes, as FC runs two instances, on one redis-server
/// that is killed and restarted. Nothing is started by hand inside a process: each learns from the store as it does in
/// service, at its first request or at FC's /initialize.
/// </summary>
public sealed class SharedCooldownProcessTests : IAsyncLifetime
{
    private const string Subject = "static-1";

    private SharedPoolKit? _kit;
    private ProxyProcess _a = null!;
    private ProxyProcess _b = null!;
    private HttpClient _clientA = null!;
    private HttpClient _clientB = null!;

    private RedisServer Redis => _kit!.Redis;

    private FakeOpenAI Upstream => _kit!.Upstream;

    private KeyedAnswers Keys => _kit!.Keys;

    public async Task InitializeAsync()
    {
        _kit = await SharedPoolKit.StartAsync();
        if (_kit is null)
        {
            return;
        }

        var settings = _kit.Settings(("PROXY_FC_EMULATION", "on")) // FC's /initialize, outside FC
            .ToDictionary(setting => setting.Key, setting => setting.Value!);
        var started = await Task.WhenAll(ProxyProcess.StartAsync(Upstream.BaseAddress, settings), ProxyProcess.StartAsync(Upstream.BaseAddress, settings));
        (_a, _b) = (started[0], started[1]);
        _clientA = new HttpClient { BaseAddress = _a.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        _clientB = new HttpClient { BaseAddress = _b.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        await Task.WhenAll(_a.Logs.WaitForLineAsync(Connected), _b.Logs.WaitForLineAsync(Connected));
    }

    public async Task DisposeAsync()
    {
        if (_kit is null)
        {
            return;
        }

        _clientA.Dispose();
        _clientB.Dispose();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _kit.DisposeAsync();
    }

    private static bool Connected(string line) => line.Contains("Limits store", StringComparison.Ordinal) && line.Contains("connected in", StringComparison.Ordinal);

    private static async Task<HttpStatusCode> ChatAsync(HttpClient client, string token = AccessKit.StaticToken)
    {
        using var response = await client.SendAsync(AccessKit.Post("/v1/chat/completions", PoolKit.Chat, token));
        return response.StatusCode;
    }

    /// <summary>The keys the chat requests after the <paramref name="skip"/>-th upstream request carried.</summary>
    private string[] ChatKeysAfter(int skip)
        => [.. Upstream.Requests.Skip(skip).Where(request => request.Path == "/v1/chat/completions").Select(PoolKit.KeyOf)];

    /// <summary>A key that answers chat requests so, and GET /v1/models (the initializer's probe) as a working key.</summary>
    private static Func<HttpContext, RecordedRequest, Task> OnChat(Func<HttpContext, RecordedRequest, Task> answer)
        => (context, request) => request.Path == "/v1/chat/completions" ? answer(context, request) : FakeResponses.DefaultAsync(context, request);

    /// <summary>A subject whose first key is <paramref name="key"/> (or, with <paramref name="not"/>, is not).</summary>
    private static string SubjectFirstOn(string key, bool not = false)
        => Enumerable.Range(1, 100).Select(i => $"subject-{i}").First(subject => (PoolKit.Order(subject)[0] == key) != not);


    // Both processes' connections back after a restart (StackExchange.Redis reconnects every second); one round trip a look.
    private async Task WaitForClientsAsync(int count)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20) && await ClientsAsync() < count)
        {
        }

        Assert.True(await ClientsAsync() >= count, "the proxies did not reconnect to the restarted store");
    }

    // Connected clients, this look's own included; the helper reads one line, so a script turns INFO's text into a number.
    private async Task<int> ClientsAsync()
        => int.Parse((await Redis.CommandAsync("EVAL", "return tonumber(string.match(redis.call('INFO', 'clients'), 'connected_clients:(%d+)'))", "0")).TrimStart(':'),
            System.Globalization.CultureInfo.InvariantCulture);

    [RedisFact]
    public async Task TwoProcesses_OneFindsADeadKey_TheOtherNeverTriesIt_StoreKilledEachKeepsItsOwn_RestartedSharingResumes()
    {
        var order = PoolKit.Order(Subject);

        // A meets the first key's 429 and writes its rest to the store.
        Keys[order[0]] = OnChat(PoolKit.Answer(429, PoolKit.RateLimitBody, ("retry-after", "60")));
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(_clientA));
        Assert.Equal([order[0], order[1]], ChatKeysAfter(0));
        await PoolKit.WaitForStoredCooldownAsync(Redis, order[0]);

        // B's first request (another subject's) reads the store; then the subject's request goes straight to its second key.
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(_clientB, AccessKit.Signed(SubjectFirstOn(order[0], not: true))));
        await _b.Logs.WaitForLineAsync(l => l.Contains($"Key {order[0]} cooling down for", StringComparison.Ordinal)
            && l.Contains("as another instance found: 429 rate_limit_exceeded", StringComparison.Ordinal));
        var before = Upstream.Requests.Count;
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(_clientB));
        Assert.Equal([order[1]], ChatKeysAfter(before));

        // The store killed: the second key fails too. Both keep serving (no 5xx of the store's), each with its own rests:
        // neither tries the first key again, each finds the second key's failure itself.
        var clients = await ClientsAsync();
        await Redis.KillAsync();
        Keys[order[1]] = OnChat(PoolKit.Answer(503, """{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}"""));
        before = Upstream.Requests.Count;
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(_clientA));
        Assert.Equal([order[1], order[2]], ChatKeysAfter(before));
        before = Upstream.Requests.Count;
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(_clientB));
        Assert.Equal([order[1], order[2]], ChatKeysAfter(before));
        await Task.WhenAll(
            _a.Logs.WaitForLineAsync(l => l.Contains("Key cooldowns not shared", StringComparison.Ordinal)),
            _b.Logs.WaitForLineAsync(l => l.Contains("Key cooldowns not shared", StringComparison.Ordinal)));

        // Restarted (empty): A meets a 429 on the third key and writes it; B, at FC's /initialize, reads it and keeps off it.
        // (The empty store also no longer holds the first key's rest: B, which had it from the store, uses that key again.)
        await Redis.RestartAsync();
        await WaitForClientsAsync(clients);
        Keys.Reset(order[0]);
        Keys.Reset(order[1]);
        Keys[order[2]] = OnChat(PoolKit.Answer(429, PoolKit.RateLimitBody, ("retry-after", "60")));
        var third = SubjectFirstOn(order[2]);
        before = Upstream.Requests.Count;
        await ChatAsync(_clientA, AccessKit.Signed(third));
        Assert.Equal(order[2], ChatKeysAfter(before)[0]);
        await PoolKit.WaitForStoredCooldownAsync(Redis, order[2]);

        using (var initialize = FcCalls.Control(HttpMethod.Post, "/initialize", "init-b"))
        using (var response = await _clientB.SendAsync(initialize))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await _b.Logs.WaitForLineAsync(l => l.Contains($"Key {order[2]} cooling down for", StringComparison.Ordinal)
            && l.Contains("as another instance found", StringComparison.Ordinal));
        before = Upstream.Requests.Count;
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(_clientB, AccessKit.Signed(third)));
        Assert.NotEqual(order[2], Assert.Single(ChatKeysAfter(before)));
    }
}
