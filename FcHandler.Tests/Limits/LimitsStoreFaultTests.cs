using System.Diagnostics;
using System.Net;
using FcHandler.Limits;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Limits;

/// <summary>
/// The shared store failing under the proxy, a real Redis killed, restarted, slowed or cutting the proxy's connection:
/// each failure mode does what docs/limits.md says, nothing waits longer than the store timeout, and nothing is a 500.
/// </summary>
public sealed class LimitsStoreFaultTests : IAsyncLifetime
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

    // Not 250 ms: the test host compiles the store's code paths as it first runs them (the proxy on FC is compiled ahead
    // of time), and a test machine running other tests beside these is slower than FC's quota. Where the wait itself is
    // what a test checks, a second; elsewhere, long enough that only a store that is really gone makes the proxy fall back.
    private const string BoundedWait = "1s";
    private const string Generous = "5s";

    private async Task<ProxyHost> StartAsync(string mode, string limits = "rpm=1000", string timeout = Generous, TimeProvider? time = null)
    {
        var proxy = await ProxyHost.StartAsync(
            _upstream.BaseAddress.ToString(),
            AccessKit.ServerKeyMode(("LIMITS_STORE", _redis!.Url), ("LIMITS_STORE_FAILURE", mode), ("LIMITS_DEFAULT", limits), ("LIMITS_STORE_TIMEOUT", timeout)),
            time is null ? null : services => services.AddSingleton(time));
        _proxies.Add(proxy);
        await proxy.Logs.WaitForLineAsync(line => line.Contains("connected in", StringComparison.Ordinal));
        await SendAsync(proxy, AccessKit.Signed(subject: "warm-up")); // compiles the store's code paths in this test host
        return proxy;
    }

    private static async Task<(HttpStatusCode Status, string? Code, TimeSpan Took, string RetryAfter)> SendAsync(ProxyHost proxy, string token)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await proxy.Client.SendAsync(AccessKit.Get("/v1/models", token));
        var took = Stopwatch.GetElapsedTime(started);
        var code = response.StatusCode == HttpStatusCode.OK ? null : await AccessKit.ErrorCodeOf(response);
        return (response.StatusCode, code, took, response.Headers.RetryAfter?.ToString() ?? "");
    }

    // Whether the store holds the subject's rate window: its requests were counted there, not on the instance.
    private Task<string> InStoreAsync(string subject) => _redis!.CommandAsync("EXISTS", $"fcp:{{{subject}}}:all:rate");

    [RedisFact]
    public async Task WrongPassword_IsNamedInTheLogWithoutThePassword_AndRequestsFollowTheMode()
    {
        await using var guarded = await RedisServer.StartAsync(password: "the-right-one");
        var proxy = await ProxyHost.StartAsync(_upstream, AccessKit.ServerKeyMode(
            ("LIMITS_STORE", $"redis://:a-wrong-password@127.0.0.1:{guarded.Port}/0"), ("LIMITS_STORE_FAILURE", "closed"), ("LIMITS_DEFAULT", "rpm=10")));
        _proxies.Add(proxy);

        var line = await proxy.Logs.WaitForLineAsync(l => l.Contains("unavailable (cannot connect", StringComparison.Ordinal));
        var result = await SendAsync(proxy, AccessKit.StaticToken);

        Assert.Contains("cannot connect: the store answered NOAUTH Authentication required.", line, StringComparison.Ordinal);
        Assert.DoesNotContain("a-wrong-password", proxy.Logs.All, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "limits_unavailable"), (result.Status, result.Code));
    }

    [RedisFact]
    public async Task StoreWithoutScripting_IsSaidLoudly_NeverSilentlyPerInstance()
    {
        // A store that refuses EVAL and EVALSHA, as some managed stores and proxies do.
        await using var scriptless = await RedisServer.StartAsync(false, null, "--rename-command", "EVAL", "", "--rename-command", "EVALSHA", "");
        var proxy = await ProxyHost.StartAsync(_upstream, AccessKit.ServerKeyMode(
            ("LIMITS_STORE", $"redis://127.0.0.1:{scriptless.Port}/0"), ("LIMITS_STORE_FAILURE", "closed"), ("LIMITS_DEFAULT", "rpm=10")));
        _proxies.Add(proxy);

        var line = await proxy.Logs.WaitForLineAsync(l => l.Contains("cannot run the limits", StringComparison.Ordinal));
        var result = await SendAsync(proxy, AccessKit.StaticToken);

        Assert.Contains("unknown command", line, StringComparison.OrdinalIgnoreCase);
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "limits_unavailable"), (result.Status, result.Code));
        Assert.Empty(_upstream.Requests);
    }

    [RedisFact]
    public async Task StoreKilledUnderLoad_LocalMode_EveryRequestAnsweredAndOneWarning()
    {
        var proxy = await StartAsync("local", timeout: BoundedWait);
        var token = AccessKit.Signed(subject: "busy");

        var before = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => SendAsync(proxy, token)));
        await _redis!.KillAsync();
        var during = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => SendAsync(proxy, token)));

        Assert.All(before.Concat(during), result => Assert.Equal(HttpStatusCode.OK, result.Status));
        Assert.All(during, result => Assert.True(result.Took < TimeSpan.FromSeconds(3), $"a request took {result.Took} with a 1 s store timeout"));
        await proxy.Logs.WaitForLineAsync(line => line.Contains("unavailable", StringComparison.Ordinal)
            && line.Contains("deciding on this instance's own counters", StringComparison.Ordinal));
        Assert.Single(proxy.Logs.Lines, line => line.Contains("Limits store redis://127.0.0.1:", StringComparison.Ordinal)
            && line.Contains("unavailable", StringComparison.Ordinal));
        Assert.Equal(71, _upstream.Requests.Count); // with the warm-up's
    }

    [RedisFact]
    public async Task StoreThatFlaps_IsWarnedAboutOnceAMinute_WithHowOftenItFailedMeanwhile()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var proxy = await StartAsync("local", timeout: BoundedWait, time: time);
        var token = AccessKit.Signed(subject: "flappy");

        async Task OutageAsync()
        {
            _redis!.Freeze();
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(proxy, token)).Status); // waited its timeout, decided locally
            _redis.Thaw();
            time.Advance(GuardedLimitStore.ProbeEvery);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(proxy, token)).Status); // the store again
        }

        await OutageAsync();
        await OutageAsync();
        await OutageAsync();
        int Warnings() => proxy.Logs.Lines.Count(line => line.Contains("unavailable (no answer", StringComparison.Ordinal));
        Assert.Equal(1, Warnings());
        Assert.Single(proxy.Logs.Lines, line => line.Contains("answering again", StringComparison.Ordinal));

        time.Advance(TimeSpan.FromMinutes(1));
        await OutageAsync();

        Assert.Equal(2, Warnings());
        Assert.Contains(proxy.Logs.Lines, line => line.Contains("2 more call(s) went without an answer since the last such line", StringComparison.Ordinal));
    }

    [RedisFact]
    public async Task StoreKilled_ClosedMode_503LimitsUnavailable_Never500()
    {
        var proxy = await StartAsync("closed", timeout: BoundedWait);
        var token = AccessKit.Signed(subject: "strict");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(proxy, token)).Status);

        await _redis!.KillAsync();
        var during = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => SendAsync(proxy, token)));

        Assert.All(during, result =>
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, result.Status);
            Assert.Equal("limits_unavailable", result.Code);
            Assert.Equal("2", result.RetryAfter);
        });
        Assert.Equal(2, _upstream.Requests.Count); // the warm-up's and the first
        await proxy.Logs.WaitForLineAsync(line => line.Contains("refusing requests that have limits with 503", StringComparison.Ordinal));
    }

    [RedisFact]
    public async Task StoreRestarted_CountsResumeInTheStore()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var proxy = await StartAsync("local", "rpm=2", time: time);
        await _redis!.KillAsync();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(proxy, AccessKit.Signed(subject: "while-down"))).Status);

        await _redis.RestartAsync();
        var connection = proxy.Services.GetRequiredService<GuardedLimitStore>().Connection!;
        Assert.True(await connection.WaitConnectedAsync(TimeSpan.FromSeconds(15), default));

        // Within a second of a failed call, calls do not wait for a store whose connection reports itself down, which
        // it may for a moment as the library completes the reconnection: past that second, each call tries it again.
        time.Advance(GuardedLimitStore.ProbeEvery);

        var token = AccessKit.Signed(subject: "after-restart");
        var results = new[] { await SendAsync(proxy, token), await SendAsync(proxy, token), await SendAsync(proxy, token) };

        Assert.True(results.Select(result => result.Status).SequenceEqual([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests]),
            string.Join("\n", proxy.Logs.Lines));
        Assert.Equal(":1", await InStoreAsync("after-restart"));
        await proxy.Logs.WaitForLineAsync(line => line.Contains("answering again after", StringComparison.Ordinal));
    }

    [RedisFact]
    public async Task ConnectionKilledByTheStoreWhileIdle_NextRequestIsFineAndCountedInTheStore()
    {
        var proxy = await StartAsync("closed");
        var token = AccessKit.Signed(subject: "idle");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(proxy, token)).Status);

        Assert.StartsWith(":", await _redis!.CommandAsync("CLIENT", "KILL", "TYPE", "normal"), StringComparison.Ordinal);
        var next = await SendAsync(proxy, token);

        Assert.Equal(HttpStatusCode.OK, next.Status);
        Assert.Equal(3, _upstream.Requests.Count);
        Assert.Equal(":1", await InStoreAsync("idle"));
        Assert.DoesNotContain(proxy.Logs.Lines, line => line.Contains("unavailable", StringComparison.Ordinal));
    }

    [RedisFact]
    public async Task StoreThatStopsAnswering_EveryWaitIsBoundedByTheTimeout()
    {
        var proxy = await StartAsync("closed", timeout: BoundedWait);
        var token = AccessKit.Signed(subject: "slow");
        var first = await SendAsync(proxy, token);
        Assert.True(first.Status == HttpStatusCode.OK, string.Join("\n", proxy.Logs.Lines));

        // The store holds its connections and answers nothing (SIGSTOP: a store stuck in a long command, as DEBUG SLEEP
        // makes one); the proxy waits its timeout (and the CPU it gets), then answers.
        _redis!.Freeze();
        var during = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => SendAsync(proxy, token)));
        _redis.Thaw();

        Assert.All(during, result =>
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, result.Status);
            Assert.True(result.Took < TimeSpan.FromSeconds(3), $"a request waited {result.Took} for a store that did not answer, with a 1 s store timeout");
        });
    }

    [RedisFact]
    public async Task StoreBusyInDebugSleep_EveryWaitIsBoundedByTheTimeout()
    {
        var proxy = await StartAsync("local", timeout: BoundedWait);
        var token = AccessKit.Signed(subject: "sleepy");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(proxy, token)).Status);

        // DEBUG SLEEP blocks the server; the requests go once it has been sent, and the warning below proves that the
        // store did not answer them.
        var sleeping = await _redis!.SendAsync("DEBUG", "SLEEP", "5");
        var during = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => SendAsync(proxy, token)));
        Assert.StartsWith("+OK", await sleeping, StringComparison.Ordinal);
        Assert.Contains(proxy.Logs.Lines, line => line.Contains("unavailable (no answer within LIMITS_STORE_TIMEOUT)", StringComparison.Ordinal));

        Assert.All(during, result =>
        {
            Assert.Equal(HttpStatusCode.OK, result.Status); // decided on this instance's counters
            Assert.True(result.Took < TimeSpan.FromSeconds(3), $"a request waited {result.Took} for a store that slept 5 s, with a 1 s store timeout");
        });
    }
}
