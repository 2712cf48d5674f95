using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Fc;

/// <summary>FC's control paths: initializer, pre-stop, the markers and the request id.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task Initialize_WarmsTheUpstream_FirstRequestOpensNoNewConnection()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);

        using (var initialize = FcCalls.Control(HttpMethod.Post, "/initialize", "init-1"))
        using (var response = await proxy.Client.SendAsync(initialize))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // One connection: the warm one in the pool, which the connection check describes (it opens none of its own).
        await proxy.Logs.WaitForLineAsync(l => l.Contains("Upstream check passed", StringComparison.Ordinal));
        Assert.Equal(1, upstream.Connections);
        Assert.Equal(("HEAD", "/"), (upstream.SingleRequest.Method, upstream.SingleRequest.Path));
        Assert.DoesNotContain("Authorization", upstream.SingleRequest.Headers.Keys);

        using var first = await proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(1, upstream.Connections);
        Assert.Equal(2, upstream.Requests.Count);
    }

    [Fact]
    public async Task Initialize_TlsUpstream_LogsTheWarmConnectionsHandshake_OneConnectionOnly()
    {
        using var certificates = new TestCertificates();
        using var certificate = certificates.Issue("127.0.0.1");
        await using var upstream = await FakeOpenAI.StartAsync(certificate);
        var directory = Directory.CreateTempSubdirectory("fchandler-warm-");
        try
        {
            await using var proxy = await ProxyHost.StartAsync(
                $"https://127.0.0.1:{upstream.BaseAddress.Port}", new Dictionary<string, string?> { ["UPSTREAM_CA_FILE"] = certificates.WriteAuthorityPem(directory.FullName) });

            using (var initialize = FcCalls.Control(HttpMethod.Post, "/initialize", "init-4"))
            using (var response = await proxy.Client.SendAsync(initialize))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            var check = await proxy.Logs.WaitForLineAsync(l => l.Contains("[51] ", StringComparison.Ordinal));
            Assert.Matches(@"Upstream check passed: https://127\.0\.0\.1:\d+ dns=-ms \(127\.0\.0\.1\) connect=\d+\.\dms tls=\d+\.\dms TLS 1\.[23], ALPN h2, certificate CN=127\.0\.0\.1 issued by CN=FcHandler Test CA", check);
            using var first = await proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal(1, upstream.Connections);
            Assert.Equal(new[] { ("HEAD", "/"), ("GET", "/v1/models") }, upstream.Requests.Select(r => (r.Method, r.Path)));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Initialize_PoolAlreadyConnected_ChecksOnAConnectionOfItsOwn()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);
        using (var first = await proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using var initialize = FcCalls.Control(HttpMethod.Post, "/initialize", "init-5");
        using var response = await proxy.Client.SendAsync(initialize);

        // The warm-up reused the pooled connection, so it opened none to describe: the check opened its own.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(proxy.Logs.Lines, l => l.Contains("Upstream check passed", StringComparison.Ordinal));
        await upstream.WaitForConnectionsAsync(2);
        Assert.Equal(2, upstream.Connections);
    }

    [Fact]
    public async Task Initialize_LogsTheConnectionCheck_StepByStep()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);

        using var initialize = FcCalls.Control(HttpMethod.Post, "/initialize", "init-3");
        using var response = await proxy.Client.SendAsync(initialize);

        var check = Assert.Single(proxy.Logs.Lines, l => l.Contains("[51] ", StringComparison.Ordinal));
        Assert.Matches(@"Upstream check passed: http://127\.0\.0\.1:\d+ dns=-ms \(127\.0\.0\.1\) connect=\d+\.\dms tls=-ms none \(plain http\)", check);
    }

    [Fact]
    public async Task Initialize_UpstreamUnreachable_Answers200AndLogsWhy()
    {
        await using var proxy = await ProxyHost.StartAsync("http://127.0.0.1:9"); // discard port: nothing listens

        using var initialize = FcCalls.Control(HttpMethod.Post, "/initialize", "init-2");
        using var response = await proxy.Client.SendAsync(initialize);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await proxy.Logs.WaitForLineAsync(l => l.Contains("Upstream warm-up failed", StringComparison.Ordinal) && l.Contains("HttpRequestException", StringComparison.Ordinal));
        Assert.Contains(proxy.Logs.Lines, l => l.Contains("Upstream check failed at connect: cannot connect to 127.0.0.1 port 9", StringComparison.Ordinal));
        Assert.Contains(proxy.Logs.Lines, l => l.Contains("FC Initialize Start RequestId: init-2", StringComparison.Ordinal));
        Assert.Contains(proxy.Logs.Lines, l => l.Contains("FC Initialize End RequestId: init-2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PreStop_WaitsForTheRunningStream_ThenRefusesNewWork()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        var finishStream = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        upstream.Handler = async (context, _) =>
        {
            await FakeResponses.FirstChunkThenWaitAsync(context, finishStream.Task);
            await FakeResponses.WriteEventAsync(context, "[DONE]");
        };
        await using var proxy = await ProxyHost.StartAsync(upstream);

        using var streamRequest = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("{}") };
        using var stream = await proxy.Client.SendAsync(streamRequest, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        Assert.Contains("first", await reader.ReadLineAsync(), StringComparison.Ordinal);

        using var preStopRequest = FcCalls.Control(HttpMethod.Get, "/pre-stop", "stop-1");
        var preStop = proxy.Client.SendAsync(preStopRequest);
        await proxy.Logs.WaitForLineAsync(l => l.Contains("waiting for 1 in flight", StringComparison.Ordinal));

        using (var lateRequest = new HttpRequestMessage(HttpMethod.Get, "/v1/models"))
        {
            lateRequest.Headers.TryAddWithoutValidation("Origin", "https://chat.example.com");
            using var late = await proxy.Client.SendAsync(lateRequest);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, late.StatusCode);
            Assert.Contains("shutting_down", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal("*", Assert.Single(late.Headers.GetValues("Access-Control-Allow-Origin"))); // a browser can read why
            var line = await proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/models", StringComparison.Ordinal));
            Assert.Contains(" 503 ", line, StringComparison.Ordinal);
            Assert.Contains("error=shutting_down", line, StringComparison.Ordinal);
        }

        Assert.False(preStop.IsCompleted, "pre-stop answered while a stream was still running");
        finishStream.SetResult();
        Assert.EndsWith("data: [DONE]\n\n", await reader.ReadToEndAsync(), StringComparison.Ordinal);

        using var answer = await preStop;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        await proxy.Logs.WaitForLineAsync(l => l.Contains("Pre-stop: done, 0 requests still running", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null)] // no FC_FUNCTION_NAME, no PROXY_FC_EMULATION: a local or container deployment
    [InlineData("off")]
    public async Task ControlPaths_OutsideFcWithoutEmulation_AreOrdinaryPathsAndDrainNothing(string? emulation)
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream, new Dictionary<string, string?> { ["PROXY_FC_EMULATION"] = emulation });

        foreach (var (method, path) in new[] { (HttpMethod.Get, "/pre-stop"), (HttpMethod.Post, "/initialize"), (HttpMethod.Post, "/invoke") })
        {
            using var hook = FcCalls.Control(method, path, "hostile-1");
            hook.Content = new StringContent(FcCalls.Event("GET", "/v1/models"));
            using var answer = await proxy.Client.SendAsync(hook);
            Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode); // an ordinary path outside /v1
        }

        using var later = await proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        Assert.Equal("/v1/models", upstream.SingleRequest.Path); // the event inside /invoke was not run
        Assert.DoesNotContain(proxy.Logs.Lines, l => l.Contains("Pre-stop", StringComparison.Ordinal) || l.Contains("FC Initialize", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PreStop_InFc_IsHonouredWithoutEmulation()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream, new Dictionary<string, string?>
        {
            ["PROXY_FC_EMULATION"] = null,
            ["FC_FUNCTION_NAME"] = "openai-proxy",
            ["LISTEN_HOST"] = "127.0.0.1",
        });

        using var preStop = await proxy.Client.SendAsync(FcCalls.Control(HttpMethod.Get, "/pre-stop", "stop-fc"));
        Assert.Equal(HttpStatusCode.OK, preStop.StatusCode);

        using var later = await proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, later.StatusCode);
    }

    [Fact]
    public async Task PreStop_StreamOutlivesTheTimeout_AnswersAnyway()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        var finishStream = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        upstream.Handler = (context, _) => FakeResponses.FirstChunkThenWaitAsync(context, finishStream.Task);
        await using var proxy = await ProxyHost.StartAsync(upstream, new Dictionary<string, string?> { ["PRE_STOP_TIMEOUT"] = "200ms" });

        using var streamRequest = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("{}") };
        using var stream = await proxy.Client.SendAsync(streamRequest, HttpCompletionOption.ResponseHeadersRead);
        using var preStopRequest = FcCalls.Control(HttpMethod.Get, "/pre-stop", "stop-2");
        using var answer = await proxy.Client.SendAsync(preStopRequest);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        await proxy.Logs.WaitForLineAsync(l => l.Contains("Pre-stop: done, 1 requests still running", StringComparison.Ordinal));
        finishStream.SetResult();
    }

    [Fact]
    public async Task PreStop_OpenWebSocket_KeepsRelayingAndRefusesNewOnes()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);
        using var socket = await RealtimeSockets.ConnectAsync(proxy);
        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);

        using var preStopRequest = FcCalls.Control(HttpMethod.Get, "/pre-stop", "stop-ws-1");
        var preStop = proxy.Client.SendAsync(preStopRequest);
        await proxy.Logs.WaitForLineAsync(l => l.Contains("waiting for 1 in flight", StringComparison.Ordinal));

        await socket.SendTextAsync("still here");
        Assert.Equal("still here", await socket.ReceiveTextAsync());
        var late = await RealtimeSockets.RefusedHandshakeAsync(proxy, "");
        Assert.Equal(503, RawHttp.StatusOf(late));
        Assert.Contains("shutting_down", late, StringComparison.Ordinal);
        Assert.False(preStop.IsCompleted, "pre-stop answered while a WebSocket was still open");

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        using var answer = await preStop;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        await proxy.Logs.WaitForLineAsync(l => l.Contains("Pre-stop: done, 0 requests still running", StringComparison.Ordinal));
        Assert.Single(upstream.Requests);
    }

    [Fact]
    public async Task PreStop_WebSocketOutlivesTheTimeout_BothSidesGet1001()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream, new Dictionary<string, string?> { ["PRE_STOP_TIMEOUT"] = "100ms" });
        using var socket = await RealtimeSockets.ConnectAsync(proxy);
        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);

        using var preStopRequest = FcCalls.Control(HttpMethod.Get, "/pre-stop", "stop-ws-2");
        using var answer = await proxy.Client.SendAsync(preStopRequest);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var (status, description) = await socket.ReceiveCloseAndAnswerAsync();
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, status); // 1001, going away
        Assert.Equal("proxy instance stopping, reconnect", description);
        var upstreamEnd = await upstream.FirstWebSocketEnd;
        Assert.Equal((WebSocketCloseStatus.EndpointUnavailable, false), (upstreamEnd.CloseStatus, upstreamEnd.Vanished));
        Assert.Contains(proxy.Logs.Lines, l => l.Contains("Pre-stop: closing 1 WebSockets with 1001", StringComparison.Ordinal));
        await proxy.Logs.WaitForLineAsync(l => l.Contains("Pre-stop: done, 0 requests still running", StringComparison.Ordinal));
        var line = await proxy.Logs.WaitForLineAsync(l => l.Contains("101 websocket", StringComparison.Ordinal));
        // The client may answer the proxy's close frame with its own before the relay ends: either is right.
        Assert.True(Regex.IsMatch(line, "closed_by=proxy client_close=(-|1001) upstream_close=1001 "), line);
    }

    [Fact]
    public async Task Stop_WebSocketOutlivesTheTimeout_BothSidesGet1001BeforeTheHostStops()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream, new Dictionary<string, string?> { ["PRE_STOP_TIMEOUT"] = "100ms" });
        using var socket = await RealtimeSockets.ConnectAsync(proxy);
        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);

        var stop = proxy.StopAsync(); // what SIGTERM starts
        var (status, description) = await socket.ReceiveCloseAndAnswerAsync();
        await stop;

        Assert.Equal((WebSocketCloseStatus.EndpointUnavailable, "proxy instance stopping, reconnect"), (status, description));
        var upstreamEnd = await upstream.FirstWebSocketEnd;
        Assert.Equal((WebSocketCloseStatus.EndpointUnavailable, false), (upstreamEnd.CloseStatus, upstreamEnd.Vanished));
        Assert.Contains(proxy.Logs.Lines, l => l.Contains("Stopping: closing 1 WebSockets with 1001", StringComparison.Ordinal));
        Assert.Contains(proxy.Logs.Lines, l => l.Contains("Stopping: done waiting, 0 requests still running", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FcRequestId_BecomesTheRequestIdOfLogsAndErrors()
    {
        await using var proxy = await ProxyHost.StartAsync("http://127.0.0.1:9");

        using var request = FcCalls.Control(HttpMethod.Get, "/http-invoke", "fc-abc-123");
        request.RequestUri = new Uri("/v1/models", UriKind.Relative);
        using var response = await proxy.Client.SendAsync(request);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("fc-abc-123", body.RootElement.GetProperty("error").GetProperty("request_id").GetString());
        await proxy.Logs.WaitForLineAsync(l => l.Contains("FC Invoke End RequestId: fc-abc-123", StringComparison.Ordinal));
        Assert.Contains(proxy.Logs.Lines, l => l.Contains("FC Invoke Start RequestId: fc-abc-123", StringComparison.Ordinal));
        Assert.Contains(proxy.Logs.Lines, l => l.Contains("502", StringComparison.Ordinal) && l.Contains("request_id=fc-abc-123", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LocalRequest_WithoutFcHeaders_GetsGeneratedIdAndNoMarkers()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);

        using var response = await proxy.Client.GetAsync(new Uri("/nope", UriKind.Relative));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var requestId = body.RootElement.GetProperty("error").GetProperty("request_id").GetString();
        Assert.False(string.IsNullOrEmpty(requestId));
        await proxy.Logs.WaitForLineAsync(l => l.Contains($"request_id={requestId}", StringComparison.Ordinal));
        Assert.DoesNotContain(proxy.Logs.Lines, l => l.Contains("FC Invoke", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FcCredentials_NeverReachLogsUpstreamOrResponses()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream, new Dictionary<string, string?>
        {
            ["ALIBABA_CLOUD_ACCESS_KEY_ID"] = "LTAI-env-key-id-marker",
            ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = "env-secret-marker",
            ["ALIBABA_CLOUD_SECURITY_TOKEN"] = "env-token-marker",
        });
        var secrets = new[] { "LTAI-hdr-key-id-marker", "hdr-secret-marker", "hdr-token-marker", "LTAI-env-key-id-marker", "env-secret-marker", "env-token-marker" };
        var responses = new StringBuilder();

        async Task SendAsync(HttpRequestMessage request)
        {
            request.Headers.Add("x-fc-access-key-id", "LTAI-hdr-key-id-marker");
            request.Headers.Add("x-fc-access-key-secret", "hdr-secret-marker");
            request.Headers.Add("x-fc-security-token", "hdr-token-marker");
            using var response = await proxy.Client.SendAsync(request);
            responses.Append(await response.Content.ReadAsStringAsync());
            foreach (var header in response.Headers.Concat(response.Content.Headers))
            {
                responses.Append(header.Key).Append(string.Join(",", header.Value));
            }

            request.Dispose();
        }

        await SendAsync(FcCalls.Control(HttpMethod.Post, "/initialize", "c-1"));
        var chat = FcCalls.Control(HttpMethod.Post, "/http-invoke", "c-2");
        chat.RequestUri = new Uri("/v1/chat/completions", UriKind.Relative);
        chat.Content = new StringContent("""{"model":"gpt-4o-mini","messages":[]}""");
        await SendAsync(chat);
        var notFound = FcCalls.Control(HttpMethod.Get, "/http-invoke", "c-3");
        notFound.RequestUri = new Uri("/nope", UriKind.Relative);
        await SendAsync(notFound);
        await SendAsync(FcCalls.Invoke(Fixtures.Event("chat-completion.json"), "c-4"));
        await SendAsync(FcCalls.Invoke(Fixtures.Event("malformed-missing-method.json"), "c-5"));
        await SendAsync(FcCalls.Control(HttpMethod.Get, "/pre-stop", "c-6"));
        await proxy.Logs.WaitForLineAsync(l => l.Contains("Pre-stop: done", StringComparison.Ordinal));

        var upstreamText = string.Join('\n', upstream.Requests.Select(r => string.Join(',', r.Headers) + r.BodyText));
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, proxy.Logs.All, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, upstreamText, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, responses.ToString(), StringComparison.Ordinal);
        }

        Assert.Equal(3, upstream.Requests.Count); // warm-up HEAD, chat over HTTP, chat from the event
    }

    [Fact]
    public async Task UnknownControlPath_Answers200AndForwardsNothing()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);

        using var request = FcCalls.Control(HttpMethod.Get, "/pre-freeze", "f-1");
        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(upstream.Requests);
    }
}
