using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using FcHandler.Limits;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Limits;

/// <summary>
/// Near the end of a budget, a request that set no cap gets one that fits what is left (LIMITS_FIT_CAP), through real
/// sockets: the fake upstream answers as OpenAI does, writing up to the cap it receives and reporting that usage.
/// </summary>
public sealed partial class FittedCapTests : IAsyncLifetime
{
    private const string NoCap = """{"model":"gpt-4o-mini","messages":[]}""";
    private const string ResponsesNoCap = """{"model":"gpt-4o-mini","input":"hi"}""";

    private FakeOpenAI _upstream = null!;
    private ProxyHost? _proxy;

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAI.StartAsync();
        _upstream.Handler = WriteUpToTheCapAsync;
    }

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        await _upstream.DisposeAsync();
    }

    // A long answer cut at the cap: 5 tokens of input, and as many of output as the cap allows.
    private static Task WriteUpToTheCapAsync(HttpContext context, RecordedRequest request)
    {
        var cap = long.Parse(CapPattern().Match(request.BodyText).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return request.Path == "/v1/responses"
            ? FakeResponses.JsonAsync(context,
                $$$"""{"id":"resp_1","object":"response","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"model":"gpt-4o-mini","output":[],"usage":{"input_tokens":5,"output_tokens":{{{cap}}},"total_tokens":{{{cap + 5}}}}}""")
            : FakeResponses.JsonAsync(context,
                $$$"""{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"..."},"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":{{{cap}}},"total_tokens":{{{cap + 5}}}}}""");
    }

    [GeneratedRegex("\"max_(?:completion|output)_tokens\":(\\d+)")]
    private static partial Regex CapPattern();

    private async Task<ProxyHost> StartAsync(long budget, string fitCap = "on")
        => _proxy = await ProxyHost.StartAsync(_upstream.BaseAddress.ToString(), AccessKit.ServerKeyMode(
            ("LIMITS_DEFAULT_OUTPUT_TOKENS", "500"), ("LIMITS_FIT_CAP", fitCap), ("LIMITS_BY_SUBJECT", $"static-1 budget={budget}/total")));

    private static async Task<long> UsedAsync(ProxyHost proxy)
        => Assert.Single(await proxy.Services.GetRequiredService<GuardedLimitStore>().Memory.ShowAsync("static-1", LimitSet.Parse("budget=1/total").Rules, default)).BudgetUsed;

    private static string Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";

    [Fact]
    public async Task Budget_ChatWithoutCapNearItsEnd_GetsACapThatFitsWhatIsLeft_AndTheBudgetEndsWithinItsLimit()
    {
        var budget = NoCap.Length + 100L; // room for its input and 100 of output, not for the default 500
        var proxy = await StartAsync(budget);

        using var response = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", NoCap, AccessKit.StaticToken));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"finish_reason\":\"length\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("""{"max_completion_tokens":100,"model":"gpt-4o-mini","messages":[]}""", _upstream.SingleRequest.BodyText);
        Assert.Equal(105, await UsedAsync(proxy));
        await proxy.Logs.WaitForLineAsync(l => l.Contains($"subject=static-1 has {budget} tokens of its budget left; the output cap the proxy adds is fitted to 100", StringComparison.Ordinal));

        // What is left now cannot hold the input and the smallest cap: the budget is spent, finally.
        using var spent = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", NoCap, AccessKit.StaticToken));
        Assert.Equal(HttpStatusCode.TooManyRequests, spent.StatusCode);
        Assert.Equal("false", Header(spent, "x-should-retry"));
        Assert.Equal("insufficient_quota", await AccessKit.ErrorCodeOf(spent));
        Assert.Single(_upstream.Requests);
        Assert.True(await UsedAsync(proxy) <= budget);
    }

    [Fact]
    public async Task Budget_ResponsesWithoutCapNearItsEnd_GetsAFittedMaxOutputTokens()
    {
        var proxy = await StartAsync(ResponsesNoCap.Length + 40L);

        using var response = await proxy.Client.SendAsync(AccessKit.Post("/v1/responses", ResponsesNoCap, AccessKit.StaticToken));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"max_output_tokens":40,"model":"gpt-4o-mini","input":"hi"}""", _upstream.SingleRequest.BodyText);
        Assert.Equal(45, await UsedAsync(proxy));
    }

    [Fact]
    public async Task Budget_ClientCapThatDoesNotFit_IsRefusedNotLowered()
    {
        var proxy = await StartAsync(NoCap.Length + 100L);

        using var response = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions",
            """{"model":"gpt-4o-mini","messages":[],"max_tokens":200}""", AccessKit.StaticToken));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("insufficient_quota", await AccessKit.ErrorCodeOf(response));
        Assert.Contains("Set a lower max_tokens", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Budget_FitCapOff_RefusesTheRequestWithoutCap()
    {
        var proxy = await StartAsync(NoCap.Length + 100L, fitCap: "off");

        using var response = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", NoCap, AccessKit.StaticToken));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("insufficient_quota", await AccessKit.ErrorCodeOf(response));
        Assert.Empty(_upstream.Requests);
        Assert.Equal(0, await UsedAsync(proxy));
    }

    [Fact]
    public async Task Budget_AFittingCapOnlyOnceARequestInFlightSettles_IsToldToWaitThenFitted()
    {
        // A request with a cap of its own is in flight and will use 7 of its reservation.
        const string Capped = """{"model":"gpt-4o-mini","messages":[],"max_tokens":50}""";
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.Handler = async (context, request) =>
        {
            if (request.BodyText == Capped)
            {
                arrived.SetResult();
                await release.Task;
                await FakeResponses.JsonAsync(context, FakeResponses.ChatCompletion("ok"));
                return;
            }

            await WriteUpToTheCapAsync(context, request);
        };
        var proxy = await StartAsync(NoCap.Length + 10L + Capped.Length + 50);
        var first = proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Capped, AccessKit.StaticToken));
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Beside it only 10 tokens of output would fit, fewer than the smallest cap; once it settles, what it held but 7 will.
        using var held = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", NoCap, AccessKit.StaticToken));
        Assert.Equal(HttpStatusCode.TooManyRequests, held.StatusCode);
        Assert.Equal("rate_limit_exceeded", await AccessKit.ErrorCodeOf(held));
        Assert.Equal(("", "1000"), (Header(held, "x-should-retry"), Header(held, "retry-after-ms")));

        release.SetResult();
        (await first).Dispose();
        using var fitted = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", NoCap, AccessKit.StaticToken));
        Assert.Equal(HttpStatusCode.OK, fitted.StatusCode);
        Assert.Equal($$"""{"max_completion_tokens":{{Capped.Length + 53}},"model":"gpt-4o-mini","messages":[]}""", _upstream.Requests.Last().BodyText);
    }
}
