using System.IO.Compression;
using System.Net;
using System.Text;
using FcHandler.Limits;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Limits;

/// <summary>
/// The hostile spend battery's HTTP doors: what a client with a token budget would try to spend unbounded (routes the
/// proxy cannot meter, path variants, bodies it could read another way than OpenAI). Through real sockets, against a
/// fake upstream that records every request: what the proxy cannot bound never reaches it, and what it can is reserved.
/// </summary>
public sealed class SpendDoorsTests : IAsyncLifetime
{
    private const string Budget = "budget=5000/total";

    private FakeOpenAI _upstream = null!;
    private ProxyHost? _proxy;

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAI.StartAsync();
        _upstream.Handler = (context, recorded) => recorded.Path == "/v1/chat/completions"
            ? FakeResponses.DefaultAsync(context, recorded)
            : FakeResponses.JsonAsync(context, """{"id":"x","object":"thing"}"""); // OpenAI's other routes answer without usage
    }

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        await _upstream.DisposeAsync();
    }

    private async Task<ProxyHost> StartAsync(string limits)
        => _proxy = await ProxyHost.StartAsync(_upstream.BaseAddress.ToString(), AccessKit.ServerKeyMode(("LIMITS_BY_SUBJECT", "static-1 " + limits)));

    private Task<RuleReport[]> ShowAsync(string limits = Budget)
        => _proxy!.Services.GetRequiredService<GuardedLimitStore>().Memory.ShowAsync("static-1", LimitSet.Parse(limits).Rules, default);

    private static HttpRequestMessage Send(string method, string path, string? json = null)
    {
        var request = json is null ? AccessKit.Get(path, AccessKit.StaticToken) : AccessKit.Post(path, json, AccessKit.StaticToken);
        request.Method = new HttpMethod(method);
        return request;
    }

    // Door 1: each of these runs models whose cost the proxy never sees (a batch file, a job, a run, a key whose session
    // bypasses it), and any write it does not know.
    [Theory]
    [InlineData("/v1/batches", "batches")]
    [InlineData("/v1/fine_tuning/jobs", "fine_tuning")]
    [InlineData("/v1/fine_tuning/jobs/ftjob-1/resume", "fine_tuning")]
    [InlineData("/v1/threads/runs", "assistants")]
    [InlineData("/v1/threads/thread_1/runs", "assistants")]
    [InlineData("/v1/threads/thread_1/runs/run_1/submit_tool_outputs", "assistants")]
    [InlineData("/v1/evals/eval_1/runs", "evals")]
    [InlineData("/v1/videos", "videos")]
    [InlineData("/v1/containers", "containers")]
    [InlineData("/v1/vector_stores", "vector_stores")]
    [InlineData("/v1/vector_stores/vs_1/file_batches", "vector_stores")]
    [InlineData("/v1/realtime/client_secrets", "realtime_keys")]
    [InlineData("/v1/realtime/sessions", "realtime_keys")]
    [InlineData("/v1/realtime/calls", "realtime_calls")]
    [InlineData("/v1/responses/compact", "other")]
    [InlineData("/v1/some_endpoint_openai_adds_next", "other")]
    public async Task UnmeteredRoute_UnderABudget_IsRefusedNamingItsClass_AndNeverReachesTheUpstream(string path, string spendClass)
    {
        var proxy = await StartAsync(Budget);

        using var response = await proxy.Client.SendAsync(Send("POST", path, """{"model":"gpt-4o-mini"}"""));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("route_not_metered", await AccessKit.ErrorCodeOf(response));
        Assert.Contains($"unmetered={spendClass}", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task UnmeteredRoute_AllowedByItsClass_IsForwarded_AndOnlyThatClass()
    {
        var proxy = await StartAsync(Budget + ",unmetered=batches+evals");

        using var batch = await proxy.Client.SendAsync(Send("POST", "/v1/batches", """{"input_file_id":"file-1"}"""));
        using var job = await proxy.Client.SendAsync(Send("POST", "/v1/fine_tuning/jobs", """{"model":"gpt-4o-mini"}"""));

        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, job.StatusCode);
        Assert.Equal("/v1/batches", _upstream.SingleRequest.Path);
    }

    [Fact]
    public async Task UnmeteredRoute_SubjectWithRequestLimitsOnly_IsForwarded()
    {
        var proxy = await StartAsync("rpm=100,concurrency=2");

        using var response = await proxy.Client.SendAsync(Send("POST", "/v1/batches", """{"input_file_id":"file-1"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    // Reads, deletes and writes that run no model stay free and allowed.
    [Theory]
    [InlineData("GET", "/v1/models", null)]
    [InlineData("GET", "/v1/batches/batch_1", null)]
    [InlineData("DELETE", "/v1/files/file-1", null)]
    [InlineData("POST", "/v1/files", """{"purpose":"batch"}""")]
    [InlineData("POST", "/v1/batches/batch_1/cancel", "{}")]
    [InlineData("POST", "/v1/responses/input_tokens", """{"model":"gpt-4o-mini","input":"hi"}""")]
    [InlineData("POST", "/v1/responses/resp_1/cancel", "{}")]
    [InlineData("POST", "/v1/conversations", "{}")]
    [InlineData("POST", "/v1/threads/thread_1/messages", """{"role":"user","content":"hi"}""")]
    public async Task FreeRoute_UnderABudget_IsForwardedAndChargedNothing(string method, string path, string? json)
    {
        var proxy = await StartAsync(Budget);

        using var response = await proxy.Client.SendAsync(Send(method, path, json));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(path, _upstream.SingleRequest.Path);
        Assert.Equal(0, Assert.Single(await ShowAsync()).BudgetUsed);
    }

    // A read is free by its method; a read that carries a body is not one the table knows, so it is not passed.
    [Theory]
    [InlineData("GET", "/v1/chat/completions")]
    [InlineData("DELETE", "/v1/responses/resp_1")]
    [InlineData("GET", "/v1/models")]
    public async Task ReadWithABody_UnderABudget_IsRefusedAndNeverReachesTheUpstream(string method, string path)
    {
        var proxy = await StartAsync(Budget);

        using var response = await proxy.Client.SendAsync(Send(method, path, """{"model":"o1-pro","input":"hi"}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("unexpected_request_body", await AccessKit.ErrorCodeOf(response));
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task ReadWithABody_SubjectWithRequestLimitsOnly_IsForwarded()
    {
        var proxy = await StartAsync("rpm=100");

        using var response = await proxy.Client.SendAsync(Send("GET", "/v1/chat/completions", "{}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    // Door 7: a path variant is the route it names, so it is capped and reserved like it.
    [Theory]
    [InlineData("/v1//chat/completions")]
    [InlineData("/v1/chat/completions/")]
    [InlineData("/v1/chat//completions//")]
    public async Task PathVariant_UnderABudget_IsMeteredAsTheRouteItNames(string path)
    {
        var proxy = await StartAsync("budget=100k/total");

        using var response = await proxy.Client.SendAsync(Send("POST", path, """{"model":"gpt-4o-mini","messages":[]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var forwarded = _upstream.SingleRequest;
        Assert.Equal("/v1/chat/completions", forwarded.Path);
        Assert.StartsWith("""{"max_completion_tokens":""", forwarded.BodyText, StringComparison.Ordinal);
        Assert.Equal(7, Assert.Single(await ShowAsync("budget=100k/total")).BudgetUsed); // the fake's usage, settled
    }

    // A write to a generation path by another method is bounded like a POST, whatever OpenAI would make of it.
    [Theory]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    public async Task OtherWriteMethod_OnAGenerationPath_IsReservedLikeAPost(string method)
    {
        var proxy = await StartAsync("budget=100k/total");

        using var response = await proxy.Client.SendAsync(Send(method, "/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[]}"""));

        Assert.StartsWith("""{"max_completion_tokens":""", _upstream.SingleRequest.BodyText, StringComparison.Ordinal);
    }

    // Door 5: a member OpenAI could read another way than the proxy is refused, never capped beside.
    [Theory]
    [InlineData("""{"model":"gpt-4o-mini","messages":[],"max_completion_tokens":null}""", "max_completion_tokens")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[],"max_completion_tokens":1.5}""", "max_completion_tokens")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[],"max_completion_tokens":"9"}""", "max_completion_tokens")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[],"max_tokens":5,"max_tokens":99999}""", "max_tokens")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[],"max_tokens":5,"n":8.0}""", "n")]
    public async Task AmbiguousBody_UnderABudget_Is400NamingTheMember_AndNeverReachesTheUpstream(string json, string member)
    {
        var proxy = await StartAsync(Budget);

        using var response = await proxy.Client.SendAsync(Send("POST", "/v1/chat/completions", json));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"code\":\"ambiguous_request_body\"", text, StringComparison.Ordinal);
        Assert.Contains($"\"param\":\"{member}\"", text, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
        Assert.Equal(0, Assert.Single(await ShowAsync()).BudgetUsed);
    }

    // Door 8: a small body that makes OpenAI read what it does not carry (a stored conversation, a file, an image by
    // URL) or run tools of its own costs what no reservation of its bytes bounds. 100 such requests at once would each
    // pass their reservation.
    [Theory]
    [InlineData("/v1/responses", """{"model":"gpt-5","previous_response_id":"resp_1","input":"go on"}""", "stored_input")]
    [InlineData("/v1/responses", """{"model":"gpt-5","input":[{"type":"item_reference","id":"msg_1"}]}""", "stored_input")]
    [InlineData("/v1/chat/completions", """{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/a.png"}}]}]}""", "stored_input")]
    [InlineData("/v1/responses", """{"model":"gpt-5","input":"news?","tools":[{"type":"web_search"}]}""", "hosted_tools")]
    [InlineData("/v1/chat/completions", """{"model":"gpt-4o-search-preview","web_search_options":{},"messages":[]}""", "hosted_tools")]
    public async Task UnboundedInput_UnderABudget_IsRefusedNamingItsClass_AndNeverReachesTheUpstream(string path, string json, string inputClass)
    {
        var proxy = await StartAsync(Budget);

        using var response = await proxy.Client.SendAsync(Send("POST", path, json));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("input_not_metered", await AccessKit.ErrorCodeOf(response));
        Assert.Contains($"unmetered={inputClass}", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
        Assert.Equal(0, Assert.Single(await ShowAsync()).BudgetUsed);
    }

    [Fact]
    public async Task UnboundedInput_AllowedByItsClass_IsForwarded_AndOnlyThatClass()
    {
        var proxy = await StartAsync(Budget + ",unmetered=stored_input");

        using var stored = await proxy.Client.SendAsync(Send("POST", "/v1/responses", """{"model":"gpt-5","previous_response_id":"resp_1","input":"go on"}"""));
        using var hosted = await proxy.Client.SendAsync(Send("POST", "/v1/responses", """{"model":"gpt-5","input":"x","tools":[{"type":"web_search"}]}"""));

        Assert.NotEqual(HttpStatusCode.Forbidden, stored.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, hosted.StatusCode);
        Assert.Equal("/v1/responses", _upstream.SingleRequest.Path);
    }

    [Fact]
    public async Task InlineImageAndFunctionTools_UnderABudget_AreForwardedAndReserved()
    {
        var proxy = await StartAsync(Budget);
        const string json = """{"model":"gpt-4o-mini","max_tokens":50,"tools":[{"type":"function","function":{"name":"open","parameters":{"properties":{"file_id":{"type":"string"}}}}}],"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}""";

        using var response = await proxy.Client.SendAsync(Send("POST", "/v1/chat/completions", json));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(_upstream.Requests);
        Assert.Equal(7, Assert.Single(await ShowAsync()).BudgetUsed); // settled to the fake's usage
    }

    [Fact]
    public async Task UnboundedInput_SubjectWithRequestLimitsOnly_IsForwarded()
    {
        var proxy = await StartAsync("rpm=100");

        using var response = await proxy.Client.SendAsync(Send("POST", "/v1/responses", """{"model":"gpt-5","previous_response_id":"resp_1","input":"go on"}"""));

        Assert.NotEqual(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Single(_upstream.Requests);
    }

    // Door 6: 2 KB on the wire must not carry 2 MB of input past a reservation of 2 KB.
    [Fact]
    public async Task CompressedBody_UnderABudget_Is415_AndNeverReachesTheUpstream()
    {
        var proxy = await StartAsync(Budget);
        var json = """{"model":"text-embedding-3-small","input":""" + "\"" + new string('a', 2_000_000) + "\"}";
        using var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            await gzip.WriteAsync(Encoding.UTF8.GetBytes(json));
        }

        var request = Send("POST", "/v1/embeddings", "{}");
        request.Content = new ByteArrayContent(compressed.ToArray());
        request.Content.Headers.ContentType = new("application/json");
        request.Content.Headers.ContentEncoding.Add("gzip");

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("unmeterable_request_body", await AccessKit.ErrorCodeOf(response));
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task NonJsonChatBody_UnderABudget_Is415_AndNeverReachesTheUpstream()
    {
        var proxy = await StartAsync(Budget);
        var request = Send("POST", "/v1/chat/completions", "{}");
        request.Content = new StringContent("""{"model":"gpt-4o-mini","messages":[]}""", Encoding.UTF8, "text/plain");

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task AmbiguousBody_WithoutLimits_IsForwardedAsItCame()
    {
        _proxy = await ProxyHost.StartAsync(_upstream.BaseAddress.ToString(), AccessKit.ServerKeyMode());
        const string json = """{"model":"gpt-4o-mini","messages":[],"max_completion_tokens":null}""";

        using var response = await _proxy.Client.SendAsync(Send("POST", "/v1/chat/completions", json));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(json, _upstream.SingleRequest.BodyText);
    }
}
