using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using FcHandler.Limits;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Limits;

/// <summary>
/// The limits step through real sockets: a client, the proxy (its own counters, in memory), and the fake upstream,
/// which counts what reaches it.
/// </summary>
public sealed class LimitsTests : IAsyncLifetime
{
    private const string Chat = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":10}""";

    private FakeOpenAI _upstream = null!;
    private readonly List<ProxyHost> _proxies = [];

    public async Task InitializeAsync() => _upstream = await FakeOpenAI.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var proxy in _proxies)
        {
            await proxy.DisposeAsync();
        }

        await _upstream.DisposeAsync();
    }

    private async Task<ProxyHost> StartAsync(params (string Key, string Value)[] settings)
        => await StartAsync(AccessKit.ServerKeyMode(settings));

    private async Task<ProxyHost> StartAsync(Dictionary<string, string?> settings, string? upstream = null)
    {
        var proxy = await ProxyHost.StartAsync(upstream ?? _upstream.BaseAddress.ToString(), settings);
        _proxies.Add(proxy);
        return proxy;
    }

    private static Task<RuleReport[]> ShowAsync(ProxyHost proxy, string subject, string limits)
        => proxy.Services.GetRequiredService<GuardedLimitStore>().Memory.ShowAsync(subject, LimitSet.Parse(limits).Rules, default);

    private static string Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";

    [Fact]
    public async Task Requests_OverTheRpm_Get429WithWhenToRetry_AndNeverReachTheUpstream()
    {
        var proxy = await StartAsync(("LIMITS_DEFAULT", "rpm=2"));

        using var first = await proxy.Client.SendAsync(AccessKit.Get("/v1/models", AccessKit.StaticToken));
        using var second = await proxy.Client.SendAsync(AccessKit.Get("/v1/models", AccessKit.StaticToken));
        using var third = await proxy.Client.SendAsync(AccessKit.Get("/v1/models", AccessKit.StaticToken));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        Assert.Equal(("2", "1"), (Header(first, "x-ratelimit-limit-requests"), Header(first, "x-ratelimit-remaining-requests")));
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal("rate_limit_exceeded", await AccessKit.ErrorCodeOf(third));
        var retryMs = long.Parse(Header(third, "retry-after-ms"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryMs, 59_000, 61_000);
        Assert.Equal(((retryMs + 999) / 1000).ToString(System.Globalization.CultureInfo.InvariantCulture), Header(third, "retry-after"));
        Assert.Equal("0", Header(third, "x-ratelimit-remaining-requests"));
        Assert.Equal("", Header(third, "x-should-retry"));
        Assert.Equal(2, _upstream.Requests.Count);

        // Another token's subject has counters of its own.
        using var other = await proxy.Client.SendAsync(AccessKit.Get("/v1/models", AccessKit.OtherStaticToken));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);

        var line = await proxy.Logs.WaitForLineAsync(l => l.Contains("Limit reached: RequestsExceeded for subject=static-1", StringComparison.Ordinal));
        Assert.Contains("rpm 2", line, StringComparison.Ordinal);
        await proxy.Logs.WaitForLineAsync(l => l.Contains(" 429 ", StringComparison.Ordinal) && l.Contains("error=rate_limit_exceeded", StringComparison.Ordinal)
            && l.Contains("subject=static-1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Budget_SettledToUsage_RefusesTheRequestThatNoLongerFits_WithoutRetry()
    {
        // Each request reserves its body's bytes and its 10 tokens of output; the fake reports 7 tokens used.
        var estimate = Chat.Length + 10;
        var proxy = await StartAsync(("LIMITS_BY_SUBJECT", $"static-1 budget={estimate + 10}/day"));

        using var first = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(7, Assert.Single(await ShowAsync(proxy, "static-1", "budget=1/day")).BudgetUsed);

        using var second = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        using var third = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken));

        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal("false", Header(third, "x-should-retry"));
        Assert.Equal("", Header(third, "retry-after"));
        using var body = JsonDocument.Parse(await third.Content.ReadAsStringAsync());
        var error = body.RootElement.GetProperty("error");
        Assert.Equal(("insufficient_quota", "insufficient_quota"), (error.GetProperty("code").GetString(), error.GetProperty("type").GetString()));
        Assert.Contains($"reserves {estimate:N0} tokens", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, _upstream.Requests.Count);
        Assert.Equal(14, Assert.Single(await ShowAsync(proxy, "static-1", "budget=1/day")).BudgetUsed);
    }

    [Fact]
    public async Task Budget_UpstreamNeverAnswered_RefundsTheReservation()
    {
        var proxy = await StartAsync(AccessKit.ServerKeyMode(("LIMITS_DEFAULT", "budget=1M/total")), upstream: $"http://127.0.0.1:{Ports.Unused()}");

        using var response = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(0, Assert.Single(await ShowAsync(proxy, "static-1", "budget=1/total")).BudgetUsed);
    }

    [Fact]
    public async Task Budget_UpstreamRefusedTheRequest_RefundsTheReservation()
    {
        _upstream.Handler = (context, _) => FakeResponses.JsonAsync(context, """{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}""", 400);
        var proxy = await StartAsync(("LIMITS_DEFAULT", "budget=1M/total"));

        using var response = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, Assert.Single(await ShowAsync(proxy, "static-1", "budget=1/total")).BudgetUsed);
    }

    [Fact]
    public async Task Budget_StreamCutBeforeItsUsage_KeepsItsReservation()
    {
        var firstEventRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.Handler = async (context, _) =>
        {
            await FakeResponses.FirstChunkThenWaitAsync(context, firstEventRead.Task);
            context.Abort(); // HTTP/1.1: the connection is reset
        };
        var proxy = await StartAsync(("LIMITS_DEFAULT", "budget=1M/total"));
        const string Stream = """{"model":"gpt-4o-mini","messages":[],"stream":true,"max_tokens":100}""";

        using var response = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Stream, AccessKit.StaticToken), HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();
        Assert.True(await body.ReadAsync(new byte[256]) > 0);
        firstEventRead.SetResult();
        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            while (await body.ReadAsync(new byte[256]) > 0)
            {
            }
        });
        await proxy.Logs.WaitForLineAsync(l => l.Contains("/v1/chat/completions", StringComparison.Ordinal) && l.Contains("subject=static-1", StringComparison.Ordinal));

        // The whole reservation stays spent: the body as the client sent it, and its 100 tokens of output.
        Assert.Single(_upstream.Requests);
        Assert.Equal(Stream.Length + 100, Assert.Single(await ShowAsync(proxy, "static-1", "budget=1/total")).BudgetUsed);
    }

    [Fact]
    public async Task Budget_ChatWithoutCap_ReachesUpstreamWithTheDefaultCap_AndARateLimitAloneAddsNone()
    {
        var proxy = await StartAsync(("LIMITS_DEFAULT_OUTPUT_TOKENS", "500"), ("LIMITS_BY_SUBJECT", "static-1 budget=1M/month; static-2 rpm=100"));
        const string NoCap = """{"model":"gpt-4o-mini","messages":[]}""";

        using var budgeted = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", NoCap, AccessKit.StaticToken));
        using var limited = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", NoCap, AccessKit.OtherStaticToken));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (budgeted.StatusCode, limited.StatusCode));
        var bodies = _upstream.Requests.Select(request => request.BodyText).ToArray();
        Assert.Equal("""{"max_completion_tokens":500,"model":"gpt-4o-mini","messages":[]}""", bodies[0]);
        Assert.Equal(NoCap, bodies[1]);
    }

    [Fact]
    public async Task Budget_StreamedChat_AsksForUsage_ClientSeesOnlyItsEvents_AndTheUsageIsCharged()
    {
        _upstream.Handler = async (context, recorded) =>
        {
            await FakeResponses.StartSseAsync(context);
            await FakeResponses.WriteEventAsync(context, FakeResponses.ChatChunk("Hi"));
            if (recorded.BodyText.Contains("\"include_usage\":true", StringComparison.Ordinal))
            {
                await FakeResponses.WriteEventAsync(context,
                    """{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":3,"total_tokens":23}}""");
            }

            await FakeResponses.WriteEventAsync(context, "[DONE]");
        };
        var proxy = await StartAsync(("LIMITS_DEFAULT", "budget=1M/day"));

        using var response = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions",
            """{"model":"gpt-4o-mini","messages":[],"stream":true,"max_tokens":50}""", AccessKit.StaticToken));
        var text = await response.Content.ReadAsStringAsync();

        Assert.DoesNotContain("usage", text, StringComparison.Ordinal);
        Assert.Contains("\"include_usage\":true", Assert.Single(_upstream.Requests).BodyText, StringComparison.Ordinal);
        Assert.Equal(23, Assert.Single(await ShowAsync(proxy, "static-1", "budget=1/day")).BudgetUsed);
    }

    [Fact]
    public async Task Concurrency_AnOpenStreamHoldsItsSlot_UntilItEnds()
    {
        var release = new TaskCompletionSource();
        var streaming = new TaskCompletionSource();
        _upstream.Handler = async (context, recorded) =>
        {
            if (recorded.BodyText.Contains("\"stream\":true", StringComparison.Ordinal))
            {
                streaming.TrySetResult();
                await FakeResponses.FirstChunkThenWaitAsync(context, release.Task);
                return;
            }

            await FakeResponses.DefaultAsync(context, recorded);
        };
        var proxy = await StartAsync(("LIMITS_DEFAULT", "concurrency=1"));

        var open = proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[],"stream":true}""", AccessKit.StaticToken),
            HttpCompletionOption.ResponseHeadersRead);
        await streaming.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using var refused = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("1 requests open at once", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        release.SetResult();
        using (var stream = await open)
        {
            await stream.Content.ReadAsStringAsync();
        }

        await proxy.Logs.WaitForLineAsync(l => l.Contains(" 200 ", StringComparison.Ordinal) && l.Contains("subject=static-1", StringComparison.Ordinal));
        using var admitted = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken));
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
    }

    [Fact]
    public async Task Success_RateLimitHeaders_AreTheTighterOfTheProxysAndOpenAIs()
    {
        _upstream.Handler = (context, _) =>
        {
            context.Response.Headers["x-ratelimit-limit-requests"] = "10000";
            context.Response.Headers["x-ratelimit-remaining-requests"] = "9999";
            context.Response.Headers["x-ratelimit-reset-requests"] = "6ms";
            context.Response.Headers["x-ratelimit-limit-tokens"] = "30000";
            context.Response.Headers["x-ratelimit-remaining-tokens"] = "12";
            context.Response.Headers["x-ratelimit-reset-tokens"] = "2m0s";
            return FakeResponses.JsonAsync(context, FakeResponses.ChatCompletion("ok"));
        };
        var proxy = await StartAsync(("LIMITS_DEFAULT", "rpm=5,tpm=100k"));

        using var response = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken));

        Assert.Equal(("5", "4"), (Header(response, "x-ratelimit-limit-requests"), Header(response, "x-ratelimit-remaining-requests")));
        Assert.Equal(("30000", "12", "2m0s"), (Header(response, "x-ratelimit-limit-tokens"), Header(response, "x-ratelimit-remaining-tokens"), Header(response, "x-ratelimit-reset-tokens")));
    }

    [Fact]
    public async Task NoLimits_NothingIsCountedAndNoHeaderAdded()
    {
        var proxy = await StartAsync();

        using var response = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", Header(response, "x-ratelimit-remaining-requests"));
        Assert.Equal(0, proxy.Services.GetRequiredService<GuardedLimitStore>().Memory.EntryCount);
        Assert.Equal(Chat, Assert.Single(_upstream.Requests).BodyText);
    }

    [Fact]
    public async Task ClientKeys_AreCountedPerKey_UnderAHashThatNamesThem()
    {
        var proxy = await StartAsync(new Dictionary<string, string?> { ["LIMITS_DEFAULT"] = "rpm=1" });
        const string KeyA = "sk-client-key-AAAA-0123456789";
        const string KeyB = "sk-client-key-BBBB-0123456789";

        using var a1 = await proxy.Client.SendAsync(AccessKit.Get("/v1/models", KeyA));
        using var a2 = await proxy.Client.SendAsync(AccessKit.Get("/v1/models", KeyA));
        using var b1 = await proxy.Client.SendAsync(AccessKit.Get("/v1/models", KeyB));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.OK), (a1.StatusCode, a2.StatusCode, b1.StatusCode));
        var subject = KeySubject.For(KeyA);
        Assert.Matches("^key-[0-9a-f]{16}$", subject);
        Assert.Contains(subject, await a2.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await proxy.Logs.WaitForLineAsync(l => l.Contains($"subject={subject}", StringComparison.Ordinal));
        Assert.DoesNotContain(proxy.Logs.Lines, l => l.Contains("client-key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SignedToken_ItsLimitsClaim_DecidesOverTheSettings()
    {
        var proxy = await StartAsync(("LIMITS_BY_SUBJECT", "alice rpm=100"));
        var token = AccessKit.Signed(limits: "rpm=1");

        using var first = await proxy.Client.SendAsync(AccessKit.Get("/v1/models", token));
        using var second = await proxy.Client.SendAsync(AccessKit.Get("/v1/models", token));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.TooManyRequests), (first.StatusCode, second.StatusCode));
    }

    [Fact]
    public async Task SignedToken_LimitsClaimThatDoesNotParse_IsRefusedRatherThanUnlimited()
    {
        var proxy = await StartAsync();

        using var response = await proxy.Client.SendAsync(AccessKit.Get("/v1/models", AccessKit.Signed(limits: "rpm=plenty")));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_api_key", await AccessKit.ErrorCodeOf(response));
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task ModelRule_RefusesThatModelOnly_AndSaysWhich()
    {
        var proxy = await StartAsync(("LIMITS_DEFAULT", "rpm=100,rpm[gpt-4o*]=1"));

        using var first = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken));
        using var second = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken));
        using var other = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat.Replace("gpt-4o-mini", "o3-mini", StringComparison.Ordinal), AccessKit.StaticToken));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.OK), (first.StatusCode, second.StatusCode, other.StatusCode));
        Assert.Contains("for gpt-4o* models", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelRule_ABodyNamingTwoModels_CannotChooseTheOneItIsCountedAgainst()
    {
        var proxy = await StartAsync(("LIMITS_DEFAULT", "rpm=100,budget[gpt-4o*]=0/total"));

        using var response = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions",
            """{"model":"o3-mini","messages":[],"max_tokens":5,"model":"gpt-4o"}""", AccessKit.StaticToken));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("ambiguous_request_body", await AccessKit.ErrorCodeOf(response));
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task ModelRule_AMultipartBodyReadableTwoWaysAfterItsModel_IsRefusedAsAmbiguous()
    {
        // Admission stops at the first model; the model's limit reads on, and a later part named two ways could carry
        // the model OpenAI takes.
        var proxy = await StartAsync(("LIMITS_DEFAULT", "rpm=100,budget[gpt-image*]=0/total"));
        const string body = "--AAA\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ndall-e-2\r\n"
            + "--AAA\r\nContent-Disposition: form-data; name=\"prompt\"; name=\"model\"\r\n\r\ngpt-image-1\r\n--AAA--\r\n";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/images/edits") { Content = new StringContent(body) };
        request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=AAA");
        request.Headers.Authorization = new("Bearer", AccessKit.StaticToken);

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("ambiguous_multipart", await AccessKit.ErrorCodeOf(response));
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Tpm_RequestLargerThanTheLimit_IsToldItCanNeverFit()
    {
        var proxy = await StartAsync(("LIMITS_DEFAULT", "tpm=50"));

        using var response = await proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Chat, AccessKit.StaticToken));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("false", Header(response, "x-should-retry"));
        Assert.Contains("can never be admitted", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Realtime_EachResponseReservedThenSettledToResponseDone_ClosedWith1008WhenTheNextCannotBeReserved()
    {
        const string ResponseDone =
            """{"type":"response.done","event_id":"e","response":{"object":"realtime.response","id":"resp_1","status":"completed","usage":{"total_tokens":600,"input_tokens":400,"output_tokens":200}}}""";
        const string Create = """{"type":"response.create","response":{"max_output_tokens":450}}""";
        _upstream.WebSocketHandler = async (socket, _) =>
        {
            while (await FakeRealtime.ReceiveAsync(socket) is { } message)
            {
                if (message.Text.Contains("response.create", StringComparison.Ordinal))
                {
                    await FakeRealtime.SendTextAsync(socket, """{"type":"response.created","event_id":"c","response":{"id":"resp_1"}}""");
                    await FakeRealtime.SendTextAsync(socket, ResponseDone);
                }
            }

            await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.Empty, socket.CloseStatusDescription, CancellationToken.None);
        };
        var proxy = await StartAsync(("LIMITS_DEFAULT", "budget=1000/day"));

        using var socket = await RealtimeSockets.ConnectAsync(proxy, options => options.SetRequestHeader("Authorization", "Bearer " + AccessKit.StaticToken));
        await socket.SendTextAsync(Create); // reserves its 63 bytes and 450: fits in 1,000, then settles to 600
        Assert.Contains("response.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        Assert.Contains("response.done", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        // In memory the settle is made before the relay writes the response.done on to the client.
        Assert.Equal(600, Assert.Single(await ShowAsync(proxy, "static-1", "budget=1000/day")).BudgetUsed);
        await socket.SendTextAsync(Create); // 600 used: another reservation of 513 does not fit

        var (status, description) = await socket.ReceiveCloseAndAnswerAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.StartsWith("insufficient_quota", description, StringComparison.Ordinal);
        Assert.True((await _upstream.FirstWebSocketEnd).Vanished);
        await proxy.Logs.WaitForLineAsync(l => l.Contains("WebSocket message refused: insufficient_quota for subject=static-1", StringComparison.Ordinal));
        await proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/realtime realtime 101 websocket", StringComparison.Ordinal));
        Assert.Equal(600, Assert.Single(await ShowAsync(proxy, "static-1", "budget=1000/day")).BudgetUsed);
    }
}
