using System.Net.WebSockets;
using FcHandler.Limits;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;
using FcHandler.Tests.Proxy.WebSockets;

namespace FcHandler.Tests.Limits;

/// <summary>
/// The WebSocket doors of spend control and of model scopes (issues 23 and 27), through real sockets: a raw client (the
/// official .NET client has no Responses WebSocket mode, and cannot send a duplicate key or a chosen model in
/// session.update), the proxy, and an upstream that records every whole message it receives. A message the proxy
/// refuses must never reach that upstream whole, and what the store charged must be what the upstream reported.
/// </summary>
public sealed class WebSocketSpendTests : IAsyncLifetime
{
    private const string AllowedModel = "gpt-4o-mini";

    private FakeOpenAI _upstream = null!;
    private readonly RecordingSessions _sessions = new();
    private readonly List<ProxyHost> _proxies = [];

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAI.StartAsync();
        _upstream.WebSocketHandler = _sessions.ServeAsync;
    }

    public async Task DisposeAsync()
    {
        foreach (var proxy in _proxies)
        {
            await proxy.DisposeAsync();
        }

        await _upstream.DisposeAsync();
    }

    private async Task<ProxyHost> StartAsync(params (string Key, string Value)[] settings)
    {
        var proxy = await ProxyHost.StartAsync(_upstream.BaseAddress.ToString(), AccessKit.ServerKeyMode(settings));
        _proxies.Add(proxy);
        return proxy;
    }

    private static Task<ClientWebSocket> OpenAsync(ProxyHost proxy, string token, string pathAndQuery, Action<ClientWebSocketOptions>? configure = null)
        => RealtimeSockets.ConnectAsync(proxy, options =>
        {
            options.SetRequestHeader("Authorization", "Bearer " + token);
            configure?.Invoke(options);
        }, pathAndQuery);

    private static string ScopedToken(string? limits = null)
        => AccessKit.Signed("scoped", models: [AllowedModel], routes: ["generation", "realtime"], limits: limits);

    private static string ResponseCreate(string model, int maxOutputTokens = 200)
        => $$"""{"type":"response.create","model":"{{model}}","input":"Say hi","max_output_tokens":{{maxOutputTokens}}}""";

    private static Task<RuleReport[]> ShowAsync(ProxyHost proxy, string subject, string limits)
        => proxy.Services.GetRequiredService<GuardedLimitStore>().Memory.ShowAsync(subject, LimitSet.Parse(limits).Rules, default);

    /// <summary>The refusal reached the client, and the upstream's side of the session ended with the message unfinished.</summary>
    /// <returns>The close reason.</returns>
    private async Task<string?> AssertRefusedAsync(ClientWebSocket socket, string code)
    {
        var (status, description) = await socket.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.StartsWith(code + ":", description, StringComparison.Ordinal);
        Assert.True((await _upstream.FirstWebSocketEnd).Vanished, "the upstream's connection must end without the message completed");
        return description;
    }

    /// <summary>A Realtime session of the static token's under <paramref name="limits"/> (LIMITS_DEFAULT), past its session.created.</summary>
    private async Task<ClientWebSocket> OpenRealtimeAsync(string limits)
    {
        var proxy = await StartAsync(("LIMITS_DEFAULT", limits));
        var socket = await OpenAsync(proxy, AccessKit.StaticToken, "/v1/realtime?model=gpt-realtime");
        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        return socket;
    }

    [Fact]
    public async Task ModelScopedToken_ResponsesWebSocketNamingAnotherModel_Closed1008_UpstreamNeverGetsTheMessage()
    {
        var proxy = await StartAsync();
        using var socket = await OpenAsync(proxy, ScopedToken(), "/v1/responses?model=" + AllowedModel);

        await socket.SendTextAsync(ResponseCreate(AllowedModel));
        Assert.Contains("response.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        await socket.SendTextAsync(ResponseCreate("o3-pro"));

        await AssertRefusedAsync(socket, "model_not_allowed");
        var received = Assert.Single(_sessions.Received);
        Assert.Contains(AllowedModel, received, StringComparison.Ordinal);
        var line = await proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/responses generation 101 websocket", StringComparison.Ordinal));
        Assert.Contains("model=" + AllowedModel, line, StringComparison.Ordinal);
        await proxy.Logs.WaitForLineAsync(l => l.Contains("WebSocket message refused: model_not_allowed for subject=scoped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ModelScopedToken_SessionUpdateToAnotherModel_Closed1008_UpstreamNeverGetsIt()
    {
        var proxy = await StartAsync();
        var token = AccessKit.Signed("voice", models: ["gpt-realtime*"], routes: ["realtime"]);
        using var socket = await OpenAsync(proxy, token, "/v1/realtime?model=gpt-realtime");
        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);

        await socket.SendTextAsync("""{"type":"session.update","session":{"type":"realtime","instructions":"be brief"}}""");
        await _sessions.WaitForAsync(1);
        await socket.SendTextAsync("""{"type":"session.update","session":{"type":"realtime","model":"o1-pro"}}""");

        await AssertRefusedAsync(socket, "model_not_allowed");
        Assert.DoesNotContain(_sessions.Received, message => message.Contains("o1-pro", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"type":"response.create","model":"gpt-4o-mini","model":"o3-pro","max_output_tokens":10}""")]
    [InlineData("""{"type":"response.create","m\u006fdel":"gpt-4o-mini","model":"o3-pro"}""")]
    [InlineData("""{"type":"response.create","type":"session.update","model":"gpt-4o-mini"}""")]
    [InlineData("""{"type":"response.create","model":"gpt-4o-mini","max_output_tokens":100,"max_output_tokens":1e9}""")]
    public async Task ModelScopedToken_AmbiguousMessage_Closed1008_UpstreamNeverGetsIt(string message)
    {
        var proxy = await StartAsync();
        using var socket = await OpenAsync(proxy, ScopedToken(), "/v1/responses?model=" + AllowedModel);

        await socket.SendTextAsync(message);

        await AssertRefusedAsync(socket, "invalid_request_error");
        Assert.Empty(_sessions.Received);
    }

    [Fact]
    public async Task LimitedToken_WebSocketOnAPathThatIsNotMetered_RefusedBeforeTheUpgrade()
    {
        var proxy = await StartAsync(("LIMITS_DEFAULT", "budget=5000/day"));

        var refused = await RealtimeSockets.RefusedHandshakeAsync(proxy, $"Authorization: Bearer {AccessKit.StaticToken}\r\n", "/v1/chat/completions");

        Assert.StartsWith("HTTP/1.1 403", refused, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"websocket_not_metered\"", refused, StringComparison.Ordinal);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task Budget_TwentyResponseCreatesBackToBack_OnlyThoseThatFitReachTheUpstream_BudgetNeverOverrun()
    {
        // Each reserves its message's bytes and its 1,000-token cap: four fit in 5,000, and none of them ends meanwhile.
        _sessions.EndResponses = false;
        var proxy = await StartAsync(("LIMITS_DEFAULT", "budget=5000/day"));
        using var socket = await OpenAsync(proxy, AccessKit.StaticToken, "/v1/realtime?model=gpt-realtime");
        const string Create = """{"type":"response.create","response":{"conversation":"none","output_modalities":["text"],"max_output_tokens":1000}}""";

        for (var i = 0; i < 20; i++)
        {
            try
            {
                await socket.SendTextAsync(Create);
            }
            catch (WebSocketException)
            {
                break; // closed under the client's feet: the rest never go
            }
        }

        var (status, description) = await socket.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        // The room is held by the four responses still running, not spent: the truthful refusal is a wait.
        Assert.StartsWith("rate_limit_exceeded:", description, StringComparison.Ordinal);
        Assert.Contains("held by responses still running", description, StringComparison.Ordinal);
        await _upstream.FirstWebSocketEnd;
        Assert.Equal(4, _sessions.Received.Count);

        // The four responses never ended: their reservations are kept, and they are all the budget holds.
        await proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/realtime realtime 101 websocket", StringComparison.Ordinal));
        var used = Assert.Single(await ShowAsync(proxy, "static-1", "budget=5000/day")).BudgetUsed;
        Assert.Equal(4 * (Create.Length + 1000), used);
        Assert.InRange(used, 0, 5000);
    }

    [Fact]
    public async Task Budget_SessionClosedAfterOutputBeforeResponseDone_ReservationKept()
    {
        _sessions.EndResponses = false;
        var proxy = await StartAsync(("LIMITS_DEFAULT", "budget=50000/day"));
        using var socket = await OpenAsync(proxy, AccessKit.StaticToken, "/v1/realtime?model=gpt-realtime");
        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        const string Create = """{"type":"response.create","response":{"max_output_tokens":"inf"}}""";

        await socket.SendTextAsync(Create);
        Assert.Contains("response.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        Assert.Contains("response.output_text.delta", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        await proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/realtime realtime 101 websocket", StringComparison.Ordinal));
        var used = Assert.Single(await ShowAsync(proxy, "static-1", "budget=50000/day")).BudgetUsed;
        Assert.Equal(Create.Length + 16_384, used); // "inf": the default output bound
    }

    [Fact]
    public async Task Budget_ResponsesWebSocket_SettledToResponseCompletedUsage()
    {
        _sessions.TotalTokens = 150;
        var proxy = await StartAsync(("LIMITS_DEFAULT", "budget=50000/day"));
        using var socket = await OpenAsync(proxy, AccessKit.StaticToken, "/v1/responses");

        await socket.SendTextAsync(ResponseCreate("o3-pro", maxOutputTokens: 5000));
        Assert.Contains("response.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        Assert.Contains("delta", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        Assert.Contains("response.completed", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);

        var line = await proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/responses generation 101 websocket", StringComparison.Ordinal));
        Assert.Contains("model=o3-pro", line, StringComparison.Ordinal);
        Assert.Equal(150, Assert.Single(await ShowAsync(proxy, "static-1", "budget=50000/day")).BudgetUsed);
    }

    [Fact]
    public async Task Budget_ProxysPingsAndTheClientsPongsAndPings_NeitherChargedNorRefused()
    {
        _sessions.TotalTokens = 150;
        var proxy = await StartAsync(("LIMITS_DEFAULT", "budget=50000/day"), ("WEBSOCKET_PING", "100ms"));
        await using var client = await RawWebSocket.ConnectAsync(proxy.BaseAddress, "/v1/responses", $"Authorization: Bearer {AccessKit.StaticToken}\r\n");

        // Two of the proxy's pings answered, each with a ping of the client's own after the pong: all go through the
        // gate's reading of the client's frames before the message that is metered.
        for (var i = 0; i < 2; i++)
        {
            var ping = await client.ReceiveAsync();
            while (ping!.Opcode != Frames.Ping)
            {
                Assert.Equal(("mine", 0xA), (ping.Text, ping.Opcode)); // the upstream's answer to the client's own
                ping = await client.ReceiveAsync();
            }

            await client.SendAsync([.. Frames.Build(0xA, ping.Payload, masked: true), .. Frames.Build(Frames.Ping, "mine"u8.ToArray(), masked: true)]);
        }

        await client.SendAsync(Frames.Text(ResponseCreate("o3-pro", maxOutputTokens: 5000), masked: true));
        var events = new List<string>();
        while (events.Count < 3)
        {
            var frame = await client.ReceiveAsync();
            if (frame!.Opcode == Frames.TextOpcode)
            {
                events.Add(frame.Text);
            }
        }

        await client.SendAsync(Frames.CloseWith(1000, "", masked: true));
        var line = await proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/responses generation 101 websocket", StringComparison.Ordinal));
        Assert.Contains("response.completed", events[2], StringComparison.Ordinal);
        Assert.Contains(" closed_by=client client_close=1000 ", line, StringComparison.Ordinal);
        Assert.Equal(150, Assert.Single(await ShowAsync(proxy, "static-1", "budget=50000/day")).BudgetUsed);
    }

    [Fact]
    public async Task Budget_ResponseCreateThatCannotFit_Closed1008_NeverReachesTheUpstream()
    {
        var proxy = await StartAsync(("LIMITS_DEFAULT", "budget=5000/day"));
        using var socket = await OpenAsync(proxy, AccessKit.StaticToken, "/v1/responses");

        await socket.SendTextAsync("""{"type":"response.create","model":"o3-pro","input":"Say hi"}"""); // the default cap: 16,384

        await AssertRefusedAsync(socket, "insufficient_quota");
        Assert.Empty(_sessions.Received);
        await proxy.Logs.WaitForLineAsync(l => l.Contains("WebSocket message refused: insufficient_quota for subject=static-1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Budget_ResponsesWebSocketPreviousResponseId_Closed1008_NeverReachesTheUpstream()
    {
        // OpenAI reads the stored response again as input: what that costs is not in the message's bytes.
        var proxy = await StartAsync(("LIMITS_DEFAULT", "budget=50000/day"));
        using var socket = await OpenAsync(proxy, AccessKit.StaticToken, "/v1/responses");

        await socket.SendTextAsync("""{"type":"response.create","model":"gpt-4o-mini","previous_response_id":"resp_prev","input":"more","max_output_tokens":100}""");

        Assert.Equal(
            "input_not_metered: stored_input: refers to stored input (previous_response_id), which OpenAI reads again as input",
            await AssertRefusedAsync(socket, "input_not_metered"));
        Assert.Empty(_sessions.Received);
        await proxy.Logs.WaitForLineAsync(l => l.Contains("WebSocket message refused: input_not_metered for subject=static-1", StringComparison.Ordinal));
        Assert.Equal(0, Assert.Single(await ShowAsync(proxy, "static-1", "budget=50000/day")).BudgetUsed);
    }

    [Fact]
    public async Task BudgetAllowingStoredInput_ResponsesWebSocketPreviousResponseId_Relayed()
    {
        var proxy = await StartAsync(("LIMITS_DEFAULT", "budget=50000/day,unmetered=stored_input"));
        using var socket = await OpenAsync(proxy, AccessKit.StaticToken, "/v1/responses");

        await socket.SendTextAsync("""{"type":"response.create","model":"gpt-4o-mini","previous_response_id":"resp_prev","input":"more","max_output_tokens":100}""");

        Assert.Contains("response.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        Assert.Contains("resp_prev", Assert.Single(_sessions.Received), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Budget_RealtimeSessionUpdateWithAnMcpTool_Closed1008_NeverReachesTheUpstream()
    {
        // A remote MCP server's tools run inside OpenAI, each call running the model again on what it brings back.
        using var socket = await OpenRealtimeAsync("budget=50000/day,unmetered=stored_input");

        await socket.SendTextAsync("""{"type":"session.update","session":{"type":"realtime","tools":[{"type":"mcp","server_label":"docs","server_url":"https://mcp.example.com/sse","require_approval":"never"}]}}""");

        Assert.Equal("input_not_metered: hosted_tools: uses a tool OpenAI runs itself (mcp)", await AssertRefusedAsync(socket, "input_not_metered"));
        Assert.Empty(_sessions.Received);
    }

    [Fact]
    public async Task TokensPerMinute_RealtimeItemWithAnImageByUrl_Closed1008_NeverReachesTheUpstream()
    {
        using var socket = await OpenRealtimeAsync("tpm=100k");

        await socket.SendTextAsync("""{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_image","image_url":"https://example.com/cat.png"}]}}""");

        await AssertRefusedAsync(socket, "input_not_metered");
        Assert.Empty(_sessions.Received);
    }

    [Fact]
    public async Task Budget_FunctionToolWithAFileIdInItsSchemaAndADataImage_Relayed()
    {
        // A tool's JSON schema is the client's to write, and an inline image's bytes bound its tokens: neither is refused.
        using var socket = await OpenRealtimeAsync("budget=50000/day");

        await socket.SendTextAsync("""{"type":"session.update","session":{"type":"realtime","tools":[{"type":"function","name":"open_file","parameters":{"type":"object","properties":{"file_id":{"type":"string"},"image_url":{"type":"string"}}}}]}}""");
        await socket.SendTextAsync("""{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_image","image_url":"data:image\/png;base64,iVBORw0KGgo="}]}}""");
        await socket.SendTextAsync("""{"type":"response.create","response":{"max_output_tokens":100}}""");

        Assert.Contains("response.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        Assert.Equal(3, _sessions.Received.Count);
    }

    [Fact]
    public async Task ModelScopedTokenWithoutLimits_HostedToolAndStoredInput_Relayed()
    {
        // The message is read for its model only: without a budget or a TPM limit there is nothing to bound.
        var proxy = await StartAsync();
        using var socket = await OpenAsync(proxy, ScopedToken(), "/v1/responses?model=" + AllowedModel);

        await socket.SendTextAsync($$"""{"type":"response.create","model":"{{AllowedModel}}","previous_response_id":"resp_prev","tools":[{"type":"web_search"}]}""");

        Assert.Contains("response.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        Assert.Contains("web_search", Assert.Single(_sessions.Received), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnySession_PermessageDeflateOffered_NoneNegotiated()
    {
        var proxy = await StartAsync();
        using var socket = await OpenAsync(proxy, AccessKit.StaticToken, "/v1/realtime?model=gpt-realtime",
            options => options.DangerousDeflateOptions = new WebSocketDeflateOptions());

        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        var handshake = Assert.Single(_upstream.Requests);
        Assert.False(handshake.Headers.ContainsKey("Sec-WebSocket-Extensions"));
        Assert.False(socket.HttpResponseHeaders?.ContainsKey("Sec-WebSocket-Extensions") ?? false);
    }
}
