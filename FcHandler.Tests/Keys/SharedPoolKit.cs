using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Keys;

/// <summary>
/// What the shared-cooldown tests run against: a real redis-server as LIMITS_STORE, and a fake upstream that answers per
/// key. Null where no redis-server is installed (the tests are then skipped).
/// </summary>
public sealed class SharedPoolKit : IAsyncDisposable
{
    private SharedPoolKit(RedisServer redis, FakeOpenAI upstream)
    {
        Redis = redis;
        Upstream = upstream;
        Keys = new KeyedAnswers(upstream);
    }

    public RedisServer Redis { get; }

    public FakeOpenAI Upstream { get; }

    public KeyedAnswers Keys { get; }

    public static async Task<SharedPoolKit?> StartAsync()
        => RedisServer.Binary is null ? null : new SharedPoolKit(await RedisServer.StartAsync(), await FakeOpenAI.StartAsync());

    /// <summary>The pool's settings with the store; its timeout leaves room for a test process compiling the store's code as it first runs it.</summary>
    public Dictionary<string, string?> Settings(params (string Key, string Value)[] extra)
        => PoolKit.Settings([("LIMITS_STORE", Redis.Url), ("LIMITS_STORE_TIMEOUT", "2s"), .. extra]);

    public async ValueTask DisposeAsync()
    {
        await Upstream.DisposeAsync();
        await Redis.DisposeAsync();
    }
}
