using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using FcHandler.Limits;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Limits;

/// <summary>
/// Three proxy processes, as FC runs three instances of the function, sharing one real Redis: the limits and the
/// budget hold across them all, and what does not fit never reaches the upstream.
/// </summary>
public sealed class MultiInstanceLimitsTests : IAsyncLifetime
{
    private const int Instances = 3;
    private const int MaxTokens = 50;
    private const string Stream = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"count to ten"}],"stream":true,"max_tokens":50}""";

    private RedisServer? _redis;
    private FakeOpenAI _upstream = null!;
    private readonly List<ProxyProcess> _proxies = [];
    private readonly List<HttpClient> _clients = [];

    public async Task InitializeAsync()
    {
        if (RedisServer.Binary is null && Environment.GetEnvironmentVariable("FCHANDLER_REQUIRE_REDIS") != "1")
        {
            return;
        }

        _redis = await RedisServer.StartAsync();
        _upstream = await FakeOpenAI.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        foreach (var proxy in _proxies)
        {
            await proxy.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _upstream.DisposeAsync();
            await _redis.DisposeAsync();
        }
    }

    private async Task StartProxiesAsync(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string>
        {
            ["OPENAI_API_KEY"] = AccessKit.ServerKey,
            ["PROXY_TOKEN_SECRET"] = AccessKit.Secret,
            ["LIMITS_STORE"] = _redis!.Url,
            ["LIMITS_STORE_FAILURE"] = "closed", // a decision the store did not make would show as a 503 here
            ["LIMITS_STORE_TIMEOUT"] = "2s", // these processes compile the store's code as they first run it (FC's is compiled ahead)
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        var starting = Enumerable.Range(0, Instances).Select(_ => ProxyProcess.StartAsync(_upstream.BaseAddress, settings)).ToArray();
        foreach (var proxy in await Task.WhenAll(starting))
        {
            _proxies.Add(proxy);
            _clients.Add(new HttpClient { BaseAddress = proxy.BaseAddress, Timeout = TimeSpan.FromSeconds(60) });
        }

        await Task.WhenAll(_proxies.Select(proxy => proxy.Logs.WaitForLineAsync(line => line.Contains("Limits store", StringComparison.Ordinal)
            && line.Contains("connected in", StringComparison.Ordinal))));
    }

    private HttpClient ClientFor(int request) => _clients[request % Instances];

    [RedisFact]
    public async Task Budget_DozensOfConcurrentStreamsOverThreeInstances_UsageChargedNeverPassesIt()
    {
        // Each stream reserves its body and 50 tokens of output, and the fake reports exactly that much used: the worst
        // case, where no reservation is returned. The budget fits seven and a half of them.
        var estimate = Stream.Length + MaxTokens;
        var budget = (estimate * 7) + (estimate / 2);
        const int Requests = 45;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var decided = 0;
        var allDecided = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Decided()
        {
            if (Interlocked.Increment(ref decided) == Requests)
            {
                allDecided.TrySetResult();
            }
        }

        _upstream.Handler = async (context, _) =>
        {
            Decided();
            await release.Task.WaitAsync(TimeSpan.FromSeconds(60)); // every admission is made before any settles
            await FakeResponses.StartSseAsync(context);
            await FakeResponses.WriteEventAsync(context, FakeResponses.ChatChunk("one"));
            await FakeResponses.WriteEventAsync(context, string.Create(CultureInfo.InvariantCulture,
                $$$"""{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":{{{Stream.Length}}},"completion_tokens":{{{MaxTokens}}},"total_tokens":{{{estimate}}}}}"""));
            await FakeResponses.WriteEventAsync(context, "[DONE]");
        };
        await StartProxiesAsync();
        var token = AccessKit.Signed(subject: "team-budget", limits: $"budget={budget}/month");

        var statuses = new ConcurrentBag<HttpStatusCode>();
        var codes = new ConcurrentBag<string?>();
        var sending = Enumerable.Range(0, Requests).Select(async i =>
        {
            using var response = await ClientFor(i).SendAsync(AccessKit.Post("/v1/chat/completions", Stream, token), HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                codes.Add(await AccessKit.ErrorCodeOf(response));
                Decided();
            }

            statuses.Add(response.StatusCode);
            await response.Content.ReadAsStringAsync();
        }).ToArray();
        await allDecided.Task.WaitAsync(TimeSpan.FromSeconds(60));
        release.SetResult();
        await Task.WhenAll(sending);

        var admitted = statuses.Count(status => status == HttpStatusCode.OK);
        Assert.Equal(7, admitted);
        Assert.Equal(7, _upstream.Requests.Count);
        // Every refusal came while the seven in flight held the room, which they might have returned: each was a wait.
        Assert.All(codes, code => Assert.Equal("rate_limit_exceeded", code));
        Assert.Equal(Requests - 7, codes.Count);

        var used = long.Parse(await _redis!.CommandAsync("HGET", "fcp:{team-budget}:all:budget", "u"), CultureInfo.InvariantCulture);
        Assert.Equal(7L * estimate, used);
        Assert.True(used <= budget, $"charged {used} of a budget of {budget}");

        // They used all of it: now the budget is spent, on every instance, and that is final.
        for (var i = 0; i < 3; i++)
        {
            using var spent = await ClientFor(i).SendAsync(AccessKit.Post("/v1/chat/completions", Stream, token));
            Assert.Equal("insufficient_quota", await AccessKit.ErrorCodeOf(spent));
            Assert.Equal("false", string.Join(",", spent.Headers.GetValues("x-should-retry")));
        }
    }

    // The spend doors hold on every instance: what a signed token's limits allow unmetered passes, every other class is
    // refused, and a path variant of chat is capped and reserved on the shared store like the route it names.
    [RedisFact]
    public async Task SpendDoors_OnEveryInstance_RefuseWhatCannotBeMetered_AndCapPathVariants()
    {
        _upstream.Handler = (context, recorded) => recorded.Path == "/v1/chat/completions"
            ? FakeResponses.DefaultAsync(context, recorded)
            : FakeResponses.JsonAsync(context, """{"id":"batch_1","object":"batch"}""");
        await StartProxiesAsync();
        var token = AccessKit.Signed(subject: "team-doors", limits: "budget=100k/month,unmetered=batches");

        for (var instance = 0; instance < Instances; instance++)
        {
            using var job = await ClientFor(instance).SendAsync(AccessKit.Post("/v1/fine_tuning/jobs", """{"model":"gpt-4o-mini"}""", token));
            using var batch = await ClientFor(instance).SendAsync(AccessKit.Post("/v1/batches", """{"input_file_id":"file-1"}""", token));
            using var chat = await ClientFor(instance).SendAsync(AccessKit.Post("/v1//chat/completions/", """{"model":"gpt-4o-mini","messages":[]}""", token));

            Assert.Equal("route_not_metered", await AccessKit.ErrorCodeOf(job));
            Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (batch.StatusCode, chat.StatusCode));
        }

        Assert.DoesNotContain(_upstream.Requests, request => request.Path.StartsWith("/v1/fine_tuning", StringComparison.Ordinal));
        var chats = _upstream.Requests.Where(request => request.Path == "/v1/chat/completions").ToArray();
        Assert.Equal(Instances, chats.Length);
        Assert.All(chats, request => Assert.StartsWith("""{"max_completion_tokens":""", request.BodyText, StringComparison.Ordinal));
    }

    [RedisFact]
    public async Task Rpm_RequestsSpreadOverThreeInstances_AreAdmittedUpToTheLimitInAll()
    {
        await StartProxiesAsync(("LIMITS_DEFAULT", "rpm=10"));
        var token = AccessKit.Signed(subject: "team-rpm");

        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(async i =>
        {
            using var response = await ClientFor(i).SendAsync(AccessKit.Get("/v1/models", token));
            return response.StatusCode;
        }));

        Assert.Equal(10, responses.Count(status => status == HttpStatusCode.OK));
        Assert.Equal(20, responses.Count(status => status == HttpStatusCode.TooManyRequests));
        Assert.Equal(10, _upstream.Requests.Count);
    }

    [RedisFact]
    public async Task Concurrency_StreamsOpenOnThreeInstances_HoldTheirSlotsInAll()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var opened = 0;
        var allOpen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.Handler = async (context, recorded) =>
        {
            if (recorded.BodyText.Contains("\"stream\":true", StringComparison.Ordinal))
            {
                if (Interlocked.Increment(ref opened) == Instances)
                {
                    allOpen.TrySetResult();
                }

                await FakeResponses.FirstChunkThenWaitAsync(context, release.Task);
                return;
            }

            await FakeResponses.DefaultAsync(context, recorded);
        };
        await StartProxiesAsync(("LIMITS_DEFAULT", "concurrency=3"));
        var token = AccessKit.Signed(subject: "team-open");

        // One stream open on each instance.
        var streams = Enumerable.Range(0, Instances)
            .Select(i => ClientFor(i).SendAsync(AccessKit.Post("/v1/chat/completions", Stream, token), HttpCompletionOption.ResponseHeadersRead))
            .ToArray();
        await allOpen.Task.WaitAsync(TimeSpan.FromSeconds(30));

        foreach (var client in _clients)
        {
            using var refused = await client.SendAsync(AccessKit.Get("/v1/models", token));
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        }

        release.SetResult();
        foreach (var stream in streams)
        {
            using var response = await stream;
            await response.Content.ReadAsStringAsync();
        }

        await Task.WhenAll(_proxies.Select(proxy => proxy.Logs.WaitForLineAsync(line => line.Contains("/v1/chat/completions", StringComparison.Ordinal)
            && line.Contains(" 200 ", StringComparison.Ordinal))));
        using var admitted = await _clients[0].SendAsync(AccessKit.Get("/v1/models", token));
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
    }

    [RedisFact]
    public async Task FrozenInstance_StoreDroppedItsConnection_TheRequestThatThawsItIsAnsweredByTheStore()
    {
        await StartProxiesAsync(("LIMITS_DEFAULT", "rpm=100"));
        var token = AccessKit.Signed(subject: "thawed");
        using (var first = await _clients[0].SendAsync(AccessKit.Get("/v1/models", token)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // FC freezes the instance; meanwhile the store closes its idle connections (Tair's timeout, a failover).
        _proxies[0].Freeze();
        Assert.StartsWith(":", await _redis!.CommandAsync("CLIENT", "KILL", "TYPE", "normal"), StringComparison.Ordinal);
        _proxies[0].Thaw();

        using var thawed = await _clients[0].SendAsync(AccessKit.Get("/v1/models", token));

        Assert.Equal(HttpStatusCode.OK, thawed.StatusCode); // closed mode: a decision without the store would be a 503
        Assert.DoesNotContain(_proxies[0].Logs.Lines, line => line.Contains("unavailable", StringComparison.Ordinal));
        Assert.Equal("2", await _redis.CommandAsync("EVAL", "local n = 0 for _, v in pairs(redis.call('HVALS', KEYS[1])) do n = n + v end return tostring(n)", "1", "fcp:{thawed}:all:rate"));
    }

    [RedisFact]
    public async Task Revocation_ThroughTheStore_IsRefusedByEveryInstance()
    {
        await StartProxiesAsync();
        var token = AccessKit.Signed(subject: "leaked", id: "tok-leaked");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exit = await TokenRevokeCommand.RunAsync(["tok-leaked"], TestSettings.Of(("LIMITS_STORE", _redis!.Url)), stdout, stderr);

        Assert.True(exit == 0, stderr.ToString());
        foreach (var client in _clients)
        {
            using var response = await client.SendAsync(AccessKit.Get("/v1/models", token));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("token_revoked", await AccessKit.ErrorCodeOf(response));
        }

        using var other = await _clients[1].SendAsync(AccessKit.Get("/v1/models", AccessKit.Signed(subject: "leaked", id: "tok-new")));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Single(_upstream.Requests);
    }
}
