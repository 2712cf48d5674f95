using System.ClientModel;
using System.Net;
using System.Text.Json;
using FcHandler.Limits;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace FcHandler.Tests.Limits;

/// <summary>
/// A budget refusal says the truth, through real sockets: while requests in flight hold a budget's room, a client is
/// told to wait (a retryable 429), and only a budget really spent is <c>insufficient_quota</c> without a retry.
/// </summary>
public sealed class BudgetRefusalTests : IAsyncLifetime
{
    private const string Chat = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":10}""";
    private static readonly long Estimate = Chat.Length + 10; // the body's bytes and its cap

    private FakeOpenAI _upstream = null!;
    private ProxyHost? _proxy;

    public async Task InitializeAsync() => _upstream = await FakeOpenAI.StartAsync();

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        await _upstream.DisposeAsync();
    }

    private async Task<ProxyHost> StartAsync(string budget)
        => _proxy = await ProxyHost.StartAsync(_upstream.BaseAddress.ToString(), AccessKit.ServerKeyMode(("LIMITS_BY_SUBJECT", $"static-1 budget={budget}")));

    private static string Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";

    // Holds every request until released, then answers it as having used its whole reservation.
    private (TaskCompletionSource Release, TaskCompletionSource Arrived) HoldRequests(int until, long usage)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var count = 0;
        _upstream.Handler = async (context, _) =>
        {
            if (Interlocked.Increment(ref count) == until)
            {
                arrived.SetResult();
            }

            await release.Task;
            await FakeResponses.JsonAsync(context, FakeResponses.ChatCompletion("ok").Replace(
                "\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7",
                $"\"prompt_tokens\":{usage - 10},\"completion_tokens\":10,\"total_tokens\":{usage}",
                StringComparison.Ordinal));
        };
        return (release, arrived);
    }

    [Fact]
    public async Task Budget_RoomHeldByRequestsInFlight_IsARetryable429_AndOnceSpentTheRefusalIsFinal()
    {
        var proxy = await StartAsync($"{3 * Estimate}/day");
        var (release, arrived) = HoldRequests(until: 3, usage: Estimate);

        // Ten at once against a budget of three: three are forwarded and held there, seven are refused.
        var sent = Enumerable.Range(0, 10).Select(_ => proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken))).ToList();
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        while (sent.Count(task => task.IsCompleted) < 7)
        {
            await Task.WhenAny(sent.Where(task => !task.IsCompleted)).WaitAsync(TimeSpan.FromSeconds(30));
        }

        var refused = sent.Where(task => task.IsCompleted).Select(task => task.Result).ToList();
        var forwarded = sent.Where(task => !task.IsCompleted).ToList();
        Assert.Equal(3, forwarded.Count);
        Assert.Equal(7, refused.Count);
        foreach (var response in refused)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.Equal("", Header(response, "x-should-retry"));
            Assert.Equal(("1000", "1"), (Header(response, "retry-after-ms"), Header(response, "retry-after")));
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var error = body.RootElement.GetProperty("error");
            Assert.Equal(("rate_limit_exceeded", "tokens"), (error.GetProperty("code").GetString(), error.GetProperty("type").GetString()));
            Assert.Contains($"is held by requests in flight ({3 * Estimate} tokens reserved)", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        var report = Assert.Single(await ShowAsync(proxy));
        Assert.Equal((3 * Estimate, 3 * Estimate), (report.BudgetUsed, report.BudgetInFlight));

        // The three used all they reserved: now the budget is spent, and that refusal is final.
        release.SetResult();
        foreach (var response in await Task.WhenAll(forwarded).WaitAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var spent = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken));
        Assert.Equal(HttpStatusCode.TooManyRequests, spent.StatusCode);
        Assert.Equal("false", Header(spent, "x-should-retry"));
        Assert.Equal("", Header(spent, "retry-after-ms"));
        Assert.Equal("insufficient_quota", await AccessKit.ErrorCodeOf(spent));
        Assert.Equal(3, _upstream.Requests.Count);
        report = Assert.Single(await ShowAsync(proxy));
        Assert.Equal((3 * Estimate, 0), (report.BudgetUsed, report.BudgetInFlight));
    }

    [Fact]
    public async Task Budget_HeldByAnotherRequest_TheOpenAIClientWaitsRetriesAndIsAnswered()
    {
        // The first request reserves 1,000 tokens of output and will use 7; the SDK's request does not fit beside it.
        var proxy = await StartAsync("1200/total");
        var (release, arrived) = HoldRequests(until: 1, usage: 7);
        const string Large = """{"model":"gpt-4o-mini","messages":[],"max_tokens":1000}""";
        var first = proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Large, AccessKit.StaticToken));
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var chat = new ChatClient(FakeResponses.Model, new ApiKeyCredential(AccessKit.StaticToken), new OpenAIClientOptions { Endpoint = proxy.OpenAIEndpoint });
        var answer = chat.CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { MaxOutputTokenCount = 500 });

        // Refused while the first is in flight; once the first has settled, the SDK's own retry is admitted.
        await proxy.Logs.WaitForLineAsync(l => l.Contains("Limit reached: BudgetHeld for subject=static-1", StringComparison.Ordinal));
        release.SetResult();
        using (var response = await first)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var completion = await answer.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("ok", completion.Value.Content[0].Text);
        Assert.Equal(2, _upstream.Requests.Count);
    }

    private static Task<RuleReport[]> ShowAsync(ProxyHost proxy)
        => proxy.Services.GetRequiredService<GuardedLimitStore>().Memory.ShowAsync("static-1", LimitSet.Parse("budget=1/day").Rules, default);
}
