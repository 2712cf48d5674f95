using System.Net.Http.Headers;
using System.Text;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Proxy;

/// <summary>Each header rule, row by row, through real sockets: client -> proxy -> fake upstream -> back.</summary>
public sealed class HeaderRulesTests : ProxyTest
{

    private async Task<RecordedRequest> SendWithHeaderAsync(string name, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","messages":[]}""", Encoding.UTF8, "application/json"),
        };
        if (!request.Headers.TryAddWithoutValidation(name, value))
        {
            request.Content.Headers.Remove(name);
            request.Content.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await Proxy.Client.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return Upstream.SingleRequest;
    }

    [Theory]
    [InlineData("Authorization", "Bearer sk-client-key")]
    [InlineData("OpenAI-Organization", "org-123")]
    [InlineData("OpenAI-Project", "proj_123")]
    [InlineData("OpenAI-Beta", "assistants=v2")]
    [InlineData("X-Stainless-Lang", "python")]
    [InlineData("X-Stainless-Retry-Count", "0")]
    [InlineData("Idempotency-Key", "key-42")]
    [InlineData("Accept", "text/event-stream")]
    [InlineData("Accept-Encoding", "gzip, br")]
    [InlineData("Content-Type", "application/json; charset=utf-8")]
    [InlineData("User-Agent", "OpenAI/Python 1.50.0")]
    [InlineData("api-key", "azure-key")]
    [InlineData("X-Stainless-Helper-Method", "chat.completions.stream")]
    [InlineData("OpenAI-Log-Session", "1")]
    [InlineData("X-Client-Request-Id", "9b2c6a4e-5d3f-4c8a-9e1b-7f0d2a6c4b8e")]
    [InlineData("X-OpenAI-Client-User-Agent", """{"bindings_version": "0.28.1", "lang": "python", "platform": "Linux-6.8.0-x86_64-with-glibc2.39"}""")]
    [InlineData("X-OpenAI-Agents-SDK", "openai-agents-sdk.0.17.0")]
    [InlineData("originator", "codex_cli_rs")]
    [InlineData("version", "0.121.0")]
    [InlineData("session_id", "0199a213-81c0-7800-8aa1-bbab2a035a53")]
    [InlineData("session-id", "0199a213-81c0-7800-8aa1-bbab2a035a53")]
    [InlineData("conversation_id", "0199a213-81c0-7800-8aa1-bbab2a035a53")]
    [InlineData("thread-id", "0199a213-81c0-7800-8aa1-bbab2a035a54")]
    [InlineData("x-session-id", "sess_C9fQ2x7bT1kLmN3pR8sV")]
    [InlineData("x-codex-turn-state", "gAAAAABo9K2x-turn-state-token==")]
    [InlineData("x-codex-window-id", "0199a213-81c0-7800-8aa1-bbab2a035a53:2")]
    [InlineData("x-codex-parent-thread-id", "0199a213-81c0-7800-8aa1-bbab2a035a52")]
    [InlineData("x-openai-subagent", "review")]
    [InlineData("x-openai-memgen-request", "true")]
    [InlineData("x-codex-installation-id", "5f0c3e8a-1b2d-4c6e-8f9a-0b1c2d3e4f5a")]
    [InlineData("x-codex-beta-features", "unified_exec,remote_compaction_v2")]
    [InlineData("x-responsesapi-include-timing-metrics", "true")]
    [InlineData("x-openai-internal-codex-residency", "us")]
    public async Task RequestHeader_Allowed_ReachesUpstreamUnchanged(string name, string value)
    {
        var upstream = await SendWithHeaderAsync(name, value);

        Assert.Equal(value, upstream.Headers[name]);
    }

    [Theory]
    [InlineData("X-Forwarded-For", "203.0.113.7")]
    [InlineData("X-Forwarded-Host", "proxy.example.com")]
    [InlineData("X-Forwarded-Proto", "https")]
    [InlineData("X-Forwarded-Port", "61443")] // above Linux's ephemeral range, so never the fake's own port
    [InlineData("Forwarded", "for=203.0.113.7;proto=https")]
    [InlineData("X-Real-IP", "203.0.113.7")]
    [InlineData("True-Client-IP", "203.0.113.7")]
    [InlineData("X-Client-IP", "203.0.113.7")]
    [InlineData("CF-Connecting-IP", "203.0.113.7")]
    [InlineData("CF-IPCountry", "CN")]
    [InlineData("CF-Ray", "8a1b2c3d4e5f-HKG")]
    [InlineData("Via", "1.1 cdn.example")]
    [InlineData("x-fc-access-key-id", "LTAI-test-id")]
    [InlineData("x-fc-access-key-secret", "fc-secret")]
    [InlineData("x-fc-security-token", "fc-token")]
    [InlineData("x-fc-request-id", "req-1")]
    [InlineData("x-fc-client-ip", "203.0.113.7")]
    [InlineData("Ali-Cdn-Real-Ip", "203.0.113.7")]
    [InlineData("EagleEye-TraceId", "trace-1")]
    [InlineData("Cookie", "session=abc")]
    [InlineData("Origin", "https://app.example.com")]
    [InlineData("Referer", "https://app.example.com/chat")]
    [InlineData("Accept-Language", "zh-CN,zh;q=0.9")]
    [InlineData("Proxy-Authorization", "Basic cHJveHk6cHJveHk=")]
    [InlineData("X-Some-New-Header", "anything")]
    // Sent by first-party clients, left out on purpose (see HeaderRules).
    [InlineData("x-codex-turn-metadata", """{"turn_id":"t-1","workspaces":{"/Users/alice/src/app":{"associated_remote_urls":{"origin":"git@gitee.com:alice/app.git"}}}}""")]
    [InlineData("ChatGPT-Account-ID", "f3a1c2d4-0000-4000-8000-chatgpt-acct")]
    [InlineData("x-oai-attestation", "device-attestation-blob")]
    [InlineData("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
    [InlineData("tracestate", "vendor=user-tracing")]
    [InlineData("X-Request-Id", "gateway-stamped-id")]
    [InlineData("Sec-WebSocket-Protocol", "realtime, openai-insecure-api-key.sk-in-a-plain-request")] // only a handshake's
    [InlineData("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]
    public async Task RequestHeader_IdentityOrUnknown_NeverReachesUpstream(string name, string value)
    {
        var upstream = await SendWithHeaderAsync(name, value);

        Assert.False(upstream.Headers.ContainsKey(name), $"{name} reached the upstream");
        Assert.DoesNotContain(upstream.Headers.Values, v => v.Contains(value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Request_WithEveryKindOfHeader_UpstreamSeesExactlyTheAllowedOnes()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","messages":[]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-client-key");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.7");
        request.Headers.TryAddWithoutValidation("CF-IPCountry", "CN");
        request.Headers.TryAddWithoutValidation("x-fc-security-token", "fc-token");
        request.Headers.TryAddWithoutValidation("OpenAI-Beta", "assistants=v2");
        request.Headers.Host = "evil.example";

        using var response = await Proxy.Client.SendAsync(request);

        var names = Upstream.SingleRequest.Headers.Keys.Select(k => k.ToLowerInvariant()).Order();
        Assert.Equal(["authorization", "content-length", "content-type", "host", "openai-beta"], names);
    }

    [Fact]
    public async Task Request_SpoofedHost_UpstreamSeesItsOwnAuthority()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Host = "evil.example";

        using var response = await Proxy.Client.SendAsync(request);

        Assert.Equal(Upstream.BaseAddress.Authority, Upstream.SingleRequest.Host);
    }

    [Fact]
    public async Task Request_WithAmbientActivity_CarriesNoTracingHeaders()
    {
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) =>
                System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        using var response = await Proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative));

        var headers = Upstream.SingleRequest.Headers;
        Assert.False(headers.ContainsKey("traceparent"));
        Assert.False(headers.ContainsKey("Request-Id"));
        Assert.False(headers.ContainsKey("X-Forwarded-For"));
    }

    [Theory]
    [InlineData("x-request-id", "req_abc123")]
    [InlineData("openai-processing-ms", "312")]
    [InlineData("openai-version", "2020-10-01")]
    [InlineData("openai-organization", "org-123")]
    [InlineData("x-ratelimit-remaining-requests", "499")]
    [InlineData("x-ratelimit-reset-tokens", "6m0s")]
    [InlineData("retry-after", "7")]
    [InlineData("Content-Disposition", "inline; filename=\"out.jsonl\"")]
    [InlineData("Cache-Control", "no-cache, must-revalidate")]
    public async Task ResponseHeader_FromUpstream_ReachesClient(string name, string value)
    {
        Upstream.Handler = (context, _) =>
        {
            context.Response.Headers[name] = value;
            return FakeResponses.JsonAsync(context, FakeResponses.ChatCompletion("ok"));
        };

        using var response = await Proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative));

        Assert.True(
            response.Headers.NonValidated.TryGetValues(name, out var values)
                || response.Content.Headers.NonValidated.TryGetValues(name, out values),
            $"{name} did not reach the client");
        Assert.Equal(value, values.ToString());
    }

    [Theory]
    [InlineData("x-fc-request-id", "upstream-value")]
    [InlineData("X-Fc-Status", "200")]
    [InlineData("Server", "cloudflare")]
    [InlineData("Set-Cookie", "__cf_bm=abc; path=/; domain=.api.openai.com")]
    [InlineData("Content-Disposition", "attachment; filename=\"x.jsonl\"")]
    [InlineData("Alt-Svc", "h3=\":443\"")]
    [InlineData("Access-Control-Allow-Credentials", "true")]
    public async Task ResponseHeader_ReservedByFcOrUpstreamOnly_IsDropped(string name, string value)
    {
        Upstream.Handler = (context, _) =>
        {
            context.Response.Headers[name] = value;
            return FakeResponses.JsonAsync(context, FakeResponses.ChatCompletion("ok"));
        };

        using var response = await Proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative));

        Assert.False(
            response.Headers.NonValidated.Contains(name) || response.Content.Headers.NonValidated.Contains(name),
            $"{name} reached the client");
    }

    [Fact]
    public async Task Response_WithContentLengthAndDate_CarriesNeitherFromUpstream()
    {
        Upstream.Handler = (context, _) =>
        {
            context.Response.Headers.Date = "Mon, 01 Jan 2001 00:00:00 GMT";
            context.Response.ContentLength = 2;
            return context.Response.WriteAsync("{}");
        };

        using var response = await Proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative));

        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
        Assert.False(response.Content.Headers.NonValidated.Contains("Content-Length"));
        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.NotEqual(2001, response.Headers.Date?.Year);
        Assert.False(response.Headers.Contains("Server"));
    }

    [Fact]
    public async Task Response_Status_PassesThroughUnchanged()
    {
        Upstream.Handler = (context, _) => FakeResponses.JsonAsync(context, """{"error":{"message":"bad key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""", 401);

        using var response = await Proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative));

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("invalid_api_key", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
