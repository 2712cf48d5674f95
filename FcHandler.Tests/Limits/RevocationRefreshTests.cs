using System.Net;
using FcHandler.Limits;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace FcHandler.Tests.Limits;

/// <summary>
/// Two instances sharing a store, each on a clock of its own: a token revoked through the store is refused by an
/// instance that has never read the revocations at once, and by one that read them a moment before within
/// <see cref="RevocationList.RefreshEvery"/>.
/// </summary>
public sealed class RevocationRefreshTests : IAsyncLifetime
{
    private RedisServer? _redis;
    private FakeOpenAI _upstream = null!;
    private readonly List<ProxyHost> _proxies = [];

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAI.StartAsync();
        if (RedisServer.Binary is not null || Environment.GetEnvironmentVariable("FCHANDLER_REQUIRE_REDIS") == "1")
        {
            _redis = await RedisServer.StartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var proxy in _proxies)
        {
            await proxy.DisposeAsync();
        }

        await _upstream.DisposeAsync();
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    private async Task<ProxyHost> StartAsync(FakeTimeProvider time)
    {
        var proxy = await ProxyHost.StartAsync(
            _upstream.BaseAddress.ToString(),
            AccessKit.ServerKeyMode(("LIMITS_STORE", _redis!.Url), ("LIMITS_STORE_TIMEOUT", "2s")),
            services => services.AddSingleton<TimeProvider>(time));
        _proxies.Add(proxy);
        return proxy;
    }

    private static async Task<HttpStatusCode> SendAsync(ProxyHost proxy, string token)
    {
        using var response = await proxy.Client.SendAsync(AccessKit.Get("/v1/models", token));
        return response.StatusCode;
    }

    [RedisFact]
    public async Task Revoke_AnInstanceThatJustReadTheList_RefusesTheTokenOnceItsCopyIsOlderThanTheRefresh()
    {
        var (timeA, timeB) = (new FakeTimeProvider(DateTimeOffset.UtcNow), new FakeTimeProvider(DateTimeOffset.UtcNow));
        var a = await StartAsync(timeA);
        var b = await StartAsync(timeB);
        var token = AccessKit.Signed(subject: "mallory", id: "tok-mallory");
        Assert.Equal(HttpStatusCode.OK, await SendAsync(a, token));

        Assert.Equal(0, await TokenRevokeCommand.RunAsync(["tok-mallory"], TestSettings.Of(("LIMITS_STORE", _redis!.Url)), TextWriter.Null, TextWriter.Null));

        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(b, token)); // never read the list: reads it now
        Assert.Equal(HttpStatusCode.OK, await SendAsync(a, token)); // its copy is a moment old
        timeA.Advance(RevocationList.RefreshEvery);
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(a, token));
        Assert.Equal(2, _upstream.Requests.Count);
    }
}
