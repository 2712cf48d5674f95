using System.Net;
using FcHandler.Keys;
using FcHandler.Limits;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Keys;

/// <summary>
/// Cooldowns shared through LIMITS_STORE: two proxy instances (two hosts, each with its own pool) on one redis-server,
/// which is killed and restarted. Each instance's read of the store is started by hand here, where in service a request
/// starts it at most once a second.
/// </summary>
public sealed class SharedCooldownTests : IAsyncLifetime
{
    private const string Subject = "static-1";

    private SharedPoolKit? _kit;
    private ProxyHost _a = null!;
    private ProxyHost _b = null!;

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

        var settings = _kit.Settings();
        _a = await ProxyHost.StartAsync(Upstream, settings);
        _b = await ProxyHost.StartAsync(Upstream, settings);
    }

    public async Task DisposeAsync()
    {
        if (_kit is null)
        {
            return;
        }

        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _kit.DisposeAsync();
    }

    private static async Task<HttpStatusCode> ChatAsync(ProxyHost proxy)
    {
        using var response = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", PoolKit.Chat, AccessKit.StaticToken));
        return response.StatusCode;
    }

    private static KeyPool Pool(ProxyHost proxy) => proxy.Services.GetRequiredService<KeyPool>();

    private string[] KeysSeen => [.. Upstream.Requests.Select(PoolKit.KeyOf)];

    [RedisFact]
    public async Task SharedRest_LastsAsLongAsTheKeysReset_AndAWorkingAnswerLiftsItForEveryInstance()
    {
        var order = PoolKit.Order(Subject);
        Keys[order[0]] = PoolKit.Answer(429, PoolKit.RateLimitBody, ("retry-after", "20"));
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(_a));
        await PoolKit.WaitForStoredCooldownAsync(Redis, order[0]);

        // The entry lives as long as OpenAI's reset said, on the store's clock: not a fixed stretch.
        Assert.InRange(await PoolKit.StoredRestMsAsync(Redis, order[0]), 15_000, 20_000);
        Assert.True(await Pool(_b).Shared!.RefreshAsync(Pool(_b)));
        await _b.Logs.WaitForLineAsync(l => l.Contains($"Key {order[0]} cooling down for", StringComparison.Ordinal));

        // The key answers A's probe (reported here as the request that won the probe reports it): the entry is lifted,
        // and B, whose rest came from the store, puts the key back in service at its next read.
        var index = Pool(_a).Keys.Select(key => key.Label).ToList().IndexOf(order[0]);
        Pool(_a).Report(new KeyChoice(index, Pool(_a).Keys[index], Probe: true), KeyVerdict.Works, "probe-1");
        await PoolKit.WaitForStoredCooldownAsync(Redis, order[0], gone: true);
        Assert.True(await Pool(_b).Shared!.RefreshAsync(Pool(_b)));
        await _b.Logs.WaitForLineAsync(l => l.Contains($"Key {order[0]} back in service: the shared store no longer holds its cooldown", StringComparison.Ordinal));
        Keys.Reset(order[0]);
        var before = Upstream.Requests.Count;
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(_b));
        Assert.Equal([order[0]], KeysSeen[before..]);
    }

    [RedisFact]
    public async Task KeyRestedByOneInstance_IsAvoidedByTheOther_AndTheStoreGoingDownLeavesLocalCooldowns()
    {
        var order = PoolKit.Order(Subject);
        Keys[order[0]] = PoolKit.Answer(429, PoolKit.RateLimitBody, ("retry-after", "60"));

        Assert.Equal(HttpStatusCode.OK, await ChatAsync(_a));
        Assert.Equal([order[0], order[1]], KeysSeen);
        await PoolKit.WaitForStoredCooldownAsync(Redis, order[0]);

        // B never met the first key's 429: it learns of it from the store and goes straight to the second key.
        Assert.True(await Pool(_b).Shared!.RefreshAsync(Pool(_b)));
        await _b.Logs.WaitForLineAsync(l => l.Contains($"Key {order[0]} cooling down for", StringComparison.Ordinal) && l.Contains("as another instance found: 429", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(_b));
        Assert.Equal([order[0], order[1], order[1]], KeysSeen);

        // The store gone: B rests the second key by itself when it fails, and says the rests are not shared.
        await Redis.KillAsync();
        Keys[order[1]] = PoolKit.Answer(503, """{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}""");
        Assert.False(await Pool(_b).Shared!.RefreshAsync(Pool(_b)));
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(_b));
        Assert.Equal(order[2], KeysSeen[^1]);
        await _b.Logs.WaitForLineAsync(l => l.Contains("Key cooldowns not shared", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(_b));
        Assert.Equal(order[2], KeysSeen[^1]);

        // Back (empty): the instances share again.
        await Redis.RestartAsync();
        var connection = _b.Services.GetRequiredService<GuardedLimitStore>().Connection!;
        Assert.True(await connection.WaitConnectedAsync(TimeSpan.FromSeconds(30), CancellationToken.None));
        Keys[order[2]] = PoolKit.Answer(429, PoolKit.RateLimitBody, ("retry-after", "60"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await ChatAsync(_b)); // every key rests or refuses: the last answer
        await PoolKit.WaitForStoredCooldownAsync(Redis, order[2]);
        Assert.True(await Pool(_a).Shared!.RefreshAsync(Pool(_a)));
        await _a.Logs.WaitForLineAsync(l => l.Contains($"Key {order[2]} cooling down for", StringComparison.Ordinal) && l.Contains("as another instance found", StringComparison.Ordinal));
    }
}
