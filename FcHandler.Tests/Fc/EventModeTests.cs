using System.Security.Cryptography;
using System.Text.Json;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Fc;

/// <summary>FC HTTP-trigger events through <c>POST /invoke</c>: the same route table, header rules and forwarder.</summary>
public sealed class EventModeTests : ProxyTest
{

    [Fact]
    public async Task ChatCompletionFixture_ReturnsTheCompletionAsEvent()
    {
        var result = await Proxy.InvokeAsync(Fixtures.Event("chat-completion.json"));

        Assert.Equal(200, result.HttpStatus);
        Assert.Equal(200, result.StatusCode);
        Assert.False(result.IsBase64Encoded);
        Assert.Equal("application/json", result.Header("Content-Type"));
        Assert.Equal("Hello!", JsonDocument.Parse(result.Body).RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        var upstream = Upstream.SingleRequest;
        Assert.Equal(("POST", "/v1/chat/completions"), (upstream.Method, upstream.Path));
        Assert.Equal("Bearer sk-your-openai-key", upstream.Headers["Authorization"]);
        Assert.Contains("Say hello", upstream.BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StreamingChatFixture_CollectsTheWholeStream()
    {
        var result = await Proxy.InvokeAsync(Fixtures.Event("chat-completion-stream.json"));

        Assert.Equal(200, result.StatusCode);
        Assert.Equal("text/event-stream", result.Header("Content-Type"));
        Assert.False(result.IsBase64Encoded);
        Assert.Equal(4, result.Body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.EndsWith("data: [DONE]\n\n", result.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelsListFixture_IsForwardedAsGet()
    {
        var result = await Proxy.InvokeAsync(Fixtures.Event("models-list.json"));

        Assert.Equal(200, result.StatusCode);
        Assert.Contains("gpt-4o-mini", result.Body, StringComparison.Ordinal);
        Assert.Equal(("GET", "/v1/models"), (Upstream.SingleRequest.Method, Upstream.SingleRequest.Path));
        Assert.Empty(Upstream.SingleRequest.Body);
    }

    [Fact]
    public async Task WebSocketUpgrade_AsEvent_Is400WebSocketNotSupported()
    {
        var upgrade = FcCalls.Event("GET", "/v1/realtime", headers: new Dictionary<string, string>
        {
            ["Connection"] = "Upgrade",
            ["Upgrade"] = "websocket",
            ["Sec-WebSocket-Version"] = "13",
            ["Sec-WebSocket-Key"] = "dGhlIHNhbXBsZSBub25jZQ==",
            ["Authorization"] = "Bearer sk-your-openai-key",
        });

        var result = await Proxy.InvokeAsync(upgrade);

        Assert.Equal(400, result.StatusCode);
        Assert.Equal("websocket_not_supported", JsonDocument.Parse(result.Body).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Empty(Upstream.Requests);
    }

    [Fact]
    public async Task CorsPreflightFixture_AnsweredLocally()
    {
        var result = await Proxy.InvokeAsync(Fixtures.Event("cors-preflight.json"));

        Assert.Equal(204, result.StatusCode);
        Assert.Equal("*", result.Header("Access-Control-Allow-Origin"));
        Assert.Equal("authorization, content-type, x-stainless-os, x-stainless-lang", result.Header("Access-Control-Allow-Headers"));
        Assert.Empty(Upstream.Requests);
    }

    [Fact]
    public async Task MalformedFixture_Returns400NamingTheFieldAndForwardsNothing()
    {
        var result = await Proxy.InvokeAsync(Fixtures.Event("malformed-missing-method.json"));

        Assert.Equal(400, result.HttpStatus);
        Assert.Equal("invalid_event", result.Error.GetProperty("code").GetString());
        Assert.Equal("requestContext.http.method", result.Error.GetProperty("param").GetString());
        Assert.Empty(Upstream.Requests);
        Assert.Equal(0, Upstream.Connections);
    }

    [Theory]
    [InlineData("""not json""", "(body)")]
    [InlineData("""[1,2]""", "(body)")]
    [InlineData("""{"requestContext":{"http":{"method":"GET"}}}""", "rawPath")]
    [InlineData("""{"rawPath":"v1/models","requestContext":{"http":{"method":"GET"}}}""", "rawPath")]
    [InlineData("""{"rawPath":"/v1/models?x=1","requestContext":{"http":{"method":"GET"}}}""", "rawPath")]
    [InlineData("""{"rawPath":"/v1/models","requestContext":{"http":{"method":"get me"}}}""", "requestContext.http.method")]
    [InlineData("""{"rawPath":"/v1/models","headers":[],"requestContext":{"http":{"method":"GET"}}}""", "headers")]
    [InlineData("""{"rawPath":"/v1/models","headers":{"Accept":1},"requestContext":{"http":{"method":"GET"}}}""", "headers.Accept")]
    [InlineData("""{"rawPath":"/v1/models","queryParameters":"a=b","requestContext":{"http":{"method":"GET"}}}""", "queryParameters")]
    [InlineData("""{"rawPath":"/v1/models","body":42,"requestContext":{"http":{"method":"POST"}}}""", "body")]
    [InlineData("""{"rawPath":"/v1/models","body":"%%%","isBase64Encoded":true,"requestContext":{"http":{"method":"POST"}}}""", "body")]
    [InlineData("""{"rawPath":"/v1/models","isBase64Encoded":"yes","requestContext":{"http":{"method":"POST"}}}""", "isBase64Encoded")]
    public async Task MalformedEvent_Returns400NamingTheField(string eventJson, string field)
    {
        var result = await Proxy.InvokeAsync(eventJson);

        Assert.Equal(400, result.HttpStatus);
        Assert.Equal(field, result.Error.GetProperty("param").GetString());
        Assert.Empty(Upstream.Requests);
    }

    [Fact]
    public async Task Base64Body_ArrivesDecodedAtUpstream()
    {
        var audio = RandomNumberGenerator.GetBytes(3000);
        Upstream.Handler = (context, _) => FakeResponses.JsonAsync(context, """{"text":"ok"}""");

        var result = await Proxy.InvokeAsync(FcCalls.Event("POST", "/v1/audio/transcriptions", Convert.ToBase64String(audio),
            new Dictionary<string, string> { ["Content-Type"] = "application/octet-stream" }, base64: true));

        Assert.Equal(200, result.StatusCode);
        Assert.Equal(audio, Upstream.SingleRequest.Body);
        Assert.Equal("3000", Upstream.SingleRequest.Headers["Content-Length"]);
    }

    [Fact]
    public async Task BinaryResponse_IsReturnedBase64Encoded()
    {
        var speech = RandomNumberGenerator.GetBytes(5000);
        Upstream.Handler = async (context, _) =>
        {
            context.Response.ContentType = "audio/mpeg";
            await context.Response.Body.WriteAsync(speech);
        };

        var result = await Proxy.InvokeAsync(FcCalls.Event("POST", "/v1/audio/speech", """{"model":"tts-1","input":"hi","voice":"alloy"}"""));

        Assert.Equal(200, result.StatusCode);
        Assert.True(result.IsBase64Encoded);
        Assert.Equal(speech, Convert.FromBase64String(result.Body));
    }

    [Fact]
    public async Task UpstreamBreaksOffMidStream_EventReports502()
    {
        Upstream.Handler = async (context, _) =>
        {
            await FakeResponses.StartSseAsync(context);
            await FakeResponses.WriteEventAsync(context, FakeResponses.ChatChunk("first"));
            context.Abort();
        };

        var result = await Proxy.InvokeAsync(FcCalls.Event("POST", "/v1/chat/completions", """{"stream":true}"""));

        // Never a clean 200 with half a stream: upstream_incomplete, or upstream_connection_reset when the reset
        // overtook the response headers.
        Assert.Equal(502, result.StatusCode);
        var error = JsonDocument.Parse(result.Body).RootElement.GetProperty("error");
        Assert.Equal("proxy_error", error.GetProperty("type").GetString());
        Assert.Contains(error.GetProperty("code").GetString(), new[] { "upstream_incomplete", "upstream_connection_reset" });
    }

    [Theory]
    [InlineData("/v1/../admin", 400)]
    [InlineData("/v1/%2e%2e/admin", 400)]
    [InlineData("/admin", 404)]
    public async Task HostileOrUnknownRawPath_GetsTheSameAnswerAsOverHttp(string rawPath, int status)
    {
        var result = await Proxy.InvokeAsync(FcCalls.Event("GET", rawPath));

        Assert.Equal(status, result.StatusCode);
        Assert.Empty(Upstream.Requests);
    }

    [Fact]
    public async Task EventHeaders_GoThroughTheHeaderRules()
    {
        var result = await Proxy.InvokeAsync(FcCalls.Event("GET", "/v1/models", headers: new Dictionary<string, string>
        {
            ["Authorization"] = "Bearer sk-event",
            ["X-Forwarded-For"] = "203.0.113.7",
            ["x-fc-access-key-secret"] = "event-fc-secret",
            ["Host"] = "evil.example",
        }));

        Assert.Equal(200, result.StatusCode);
        var upstream = Upstream.SingleRequest;
        Assert.Equal("Bearer sk-event", upstream.Headers["Authorization"]);
        Assert.False(upstream.Headers.ContainsKey("X-Forwarded-For"));
        Assert.False(upstream.Headers.ContainsKey("x-fc-access-key-secret"));
        Assert.Equal(Upstream.BaseAddress.Authority, upstream.Host);
    }

    [Fact]
    public async Task EventInvocation_LogsTheInnerRequestBetweenMarkers()
    {
        await Proxy.InvokeAsync(Fixtures.Event("models-list.json"), requestId: "evt-77");

        await Proxy.Logs.WaitForLineAsync(l => l.Contains("FC Invoke End RequestId: evt-77", StringComparison.Ordinal));
        var lines = Proxy.Logs.Lines.ToList();
        var start = lines.FindIndex(l => l.Contains("FC Invoke Start RequestId: evt-77", StringComparison.Ordinal));
        var access = lines.FindIndex(l => l.Contains("GET /v1/models pass-through 200", StringComparison.Ordinal) && l.Contains("request_id=evt-77", StringComparison.Ordinal));
        var end = lines.FindIndex(l => l.Contains("FC Invoke End RequestId: evt-77", StringComparison.Ordinal));
        Assert.True(start >= 0 && start < access && access < end, string.Join('\n', lines));
    }
}
