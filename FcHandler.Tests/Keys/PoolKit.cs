using System.Collections.Concurrent;
using FcHandler.Keys;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Keys;

/// <summary>
/// A pool of three recognisable keys, and a fake upstream that answers per key: each key behaves as the test sets it
/// (rate-limited, out of quota, revoked, failing, slow), and answers as OpenAI does otherwise.
/// </summary>
public static class PoolKit
{
    public const string KeyA = "sk-pool-AAAA-must-never-leave-0123456789";
    public const string KeyB = "sk-pool-BBBB-must-never-leave-0123456789";
    public const string KeyC = "sk-pool-CCCC-must-never-leave-0123456789";

    public static readonly IReadOnlyDictionary<string, string> Secrets = new Dictionary<string, string> { ["a"] = KeyA, ["b"] = KeyB, ["c"] = KeyC };

    public static Dictionary<string, string?> Settings(params (string Key, string Value)[] extra)
    {
        var settings = AccessKit.ServerKeyMode(extra);
        settings.Remove("OPENAI_API_KEY");
        settings["OPENAI_API_KEYS"] = $"a={KeyA},b={KeyB}\nc={KeyC}";
        return settings;
    }

    /// <summary>The key names in the order the pool tries them for <paramref name="subject"/>, all in service.</summary>
    public static string[] Order(string subject)
        => [.. Secrets.OrderByDescending(pair => Rendezvous.Score(new UpstreamKey(pair.Value, pair.Key).Seed, subject)).Select(pair => pair.Key)];

    /// <summary>The name of the key a recorded request carried.</summary>
    public static string KeyOf(RecordedRequest request)
        => Secrets.Single(pair => request.Headers["Authorization"] == "Bearer " + pair.Value).Key;

    public const string RateLimitBody = """{"error":{"message":"Rate limit reached for gpt-4o-mini in organization org-x on requests per min (RPM): Limit 3, Used 3, Requested 1.","type":"requests","param":null,"code":"rate_limit_exceeded"}}""";
    public const string QuotaBody = """{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}""";
    public const string RevokedBody = """{"error":{"message":"Incorrect API key provided: sk-pool-****6789.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""";

    public const string Chat = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""";

    /// <summary>
    /// Waits until the limits store holds key <paramref name="name"/>'s rest (an instance writes it in the background),
    /// or, with <paramref name="gone"/>, no longer holds it: one round trip a look, within a deadline that covers the
    /// write's own timeout, which a write waiting for a reconnect may take.
    /// </summary>
    public static async Task WaitForStoredCooldownAsync(RedisServer redis, string name, bool gone = false)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10) && await StoredRestMsAsync(redis, name) > 0 == gone)
        {
        }

        Assert.True(await StoredRestMsAsync(redis, name) > 0 != gone, $"the store {(gone ? "still holds" : "holds no")} cooldown of key {name}");
    }

    /// <summary>What is left of key <paramref name="name"/>'s rest in the store, by its clock (ms; -2 for none).</summary>
    public static async Task<long> StoredRestMsAsync(RedisServer redis, string name)
        => long.Parse((await redis.CommandAsync("PTTL", "fcp:{keypool}:cooldown:" + new UpstreamKey(Secrets[name], name).Fingerprint)).TrimStart(':'),
            System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Answers <paramref name="status"/> with <paramref name="body"/> and <paramref name="headers"/>.</summary>
    public static Func<HttpContext, RecordedRequest, Task> Answer(int status, string body, params (string Name, string Value)[] headers)
        => async (context, _) =>
        {
            foreach (var (name, value) in headers)
            {
                context.Response.Headers[name] = value;
            }

            await FakeResponses.JsonAsync(context, body, status);
        };
}

/// <summary>Dispatches the fake upstream's answers by the key each request carries.</summary>
public sealed class KeyedAnswers
{
    private readonly ConcurrentDictionary<string, Func<HttpContext, RecordedRequest, Task>> _byKey = new();

    public KeyedAnswers(FakeOpenAI upstream) => upstream.Handler = HandleAsync;

    /// <summary>How key <paramref name="name"/> answers from now on.</summary>
    public Func<HttpContext, RecordedRequest, Task> this[string name]
    {
        set => _byKey[name] = value;
    }

    public void Reset(string name) => _byKey.TryRemove(name, out _);

    private Task HandleAsync(HttpContext context, RecordedRequest request)
        => _byKey.TryGetValue(PoolKit.KeyOf(request), out var answer) ? answer(context, request) : FakeResponses.DefaultAsync(context, request);
}
