using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;
using FcHandler.Tests.Infrastructure.FcGateway;
using FcHandler.Tests.Proxy.WebSockets;
using OpenAI;
using OpenAI.Chat;

namespace FcHandler.Tests.Fc;

/// <summary>
/// The core of the proxy as FC's users meet it: through the emulation of FC's gateway (<see cref="FcGateway"/>) in front
/// of the proxy, so that what the gateway does between the client and the function (pooled connections, FC's headers,
/// its response-header rules, streamed chunks, WebSocket pass-through) is in every exchange. Each test holds the gateway
/// to its own rules too: no 502 of FC's, no response header FC forbids.
/// </summary>
public sealed class FcGatewayProxyTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> Authorized = new() { ["Authorization"] = "Bearer sk-test", ["Content-Type"] = "application/json" };

    private FakeOpenAI _upstream = null!;
    private readonly List<IAsyncDisposable> _owned = [];

    public async Task InitializeAsync() => _upstream = await FakeOpenAI.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }

        await _upstream.DisposeAsync();
    }

    private async Task<FcGateway> GatewayAsync(string? upstream = null, IDictionary<string, string?>? settings = null)
    {
        var proxy = await ProxyHost.StartAsync(upstream ?? _upstream.BaseAddress.ToString(), settings);
        _owned.Add(proxy);
        var gateway = FcGateway.InFrontOf(proxy.BaseAddress);
        _owned.Add(gateway);
        return gateway;
    }

    private static void AssertWithinFcsRules(FcGateway gateway)
    {
        Assert.Equal(0, gateway.BadGateways);
        Assert.Empty(gateway.ResponseHeaderViolations);
    }

    [Fact]
    public async Task Stream_ThroughTheGateway_FirstEventArrivesBeforeTheUpstreamEnds()
    {
        var stream = new HeldChatStream();
        _upstream.Handler = stream.ServeAsync;
        var gateway = await GatewayAsync();

        using var response = await gateway.SendAsync("POST", "/v1/chat/completions", Authorized, """{"model":"gpt-4o-mini","stream":true,"messages":[]}""");
        var first = Encoding.UTF8.GetString(await response.ReadChunkAsync() ?? []);
        stream.FirstSeen();
        var rest = await response.ReadToEndAsync();

        // Had the gateway (or the proxy behind it) held the stream, the first piece would wait for the upstream's end,
        // which waits for the first piece: the read above would time out.
        Assert.Equal(200, response.Status);
        Assert.StartsWith("text/event-stream", response.Header("Content-Type"), StringComparison.Ordinal);
        Assert.Contains("\"Hel\"", first, StringComparison.Ordinal);
        Assert.DoesNotContain("\"lo\"", first, StringComparison.Ordinal);
        Assert.Contains("[DONE]", rest, StringComparison.Ordinal);
        AssertWithinFcsRules(gateway);
    }

    [Fact]
    public async Task OpenAIClient_StreamedChatThroughGatewayAndProxy_ArrivesUpdateByUpdate()
    {
        var stream = new HeldChatStream();
        _upstream.Handler = stream.ServeAsync;
        var gateway = await GatewayAsync();
        var front = await FcGatewayFront.StartAsync(gateway);
        _owned.Add(front);
        var chat = new ChatClient(FakeResponses.Model, new ApiKeyCredential("sk-test-client-key"), new OpenAIClientOptions
        {
            Endpoint = new Uri(front.BaseAddress, "/v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0), // a retry would hide a gateway's 502
        });

        var texts = await stream.ReadAsync(chat);

        Assert.Equal(["Hel", "lo"], texts);
        Assert.Equal("Bearer sk-test-client-key", _upstream.SingleRequest.Headers["Authorization"]);
        Assert.DoesNotContain(_upstream.SingleRequest.Headers.Keys, name => name.StartsWith("x-fc-", StringComparison.OrdinalIgnoreCase));
        AssertWithinFcsRules(gateway);
    }

    [Fact]
    public async Task Realtime_SessionThroughTheGateway_FramesBothWaysAndTheCloseHandshake()
    {
        var gateway = await GatewayAsync();

        var upgrade = await gateway.UpgradeAsync("/v1/realtime?model=" + RealtimeSockets.Model, new Dictionary<string, string> { ["Authorization"] = "Bearer sk-test" });
        Assert.Equal(101, upgrade.Response.Status);
        await using var client = new RawWebSocket(upgrade.Connection!);
        var created = await client.ReceiveSkippingPingsAsync();
        await client.SendAsync(Frames.Text("hello", masked: true));
        var echo = await client.ReceiveSkippingPingsAsync();
        await client.SendAsync(Frames.CloseWith(1000, "done", masked: true));
        var close = await client.ReceiveSkippingPingsAsync();

        Assert.Contains("session.created", created!.Text, StringComparison.Ordinal);
        Assert.Equal("hello", echo!.Text);
        Assert.Equal(1000, Frames.CloseCodeOf([close!.First, (byte)close.Payload.Length, .. close.Payload]));
        Assert.Equal("Bearer sk-test", _upstream.SingleRequest.Headers["Authorization"]);
        Assert.DoesNotContain(_upstream.SingleRequest.Headers.Keys, name => name.StartsWith("x-fc-", StringComparison.OrdinalIgnoreCase));
        AssertWithinFcsRules(gateway);
    }

    public static TheoryData<string, string, int, string> ProxyErrors => new()
    {
        { "missing token, server-key mode", "/v1/chat/completions", 401, "missing_api_key" },
        { "no such route", "/chat/completions", 404, "unknown_url" },
        { "upstream refuses", "/v1/chat/completions", 502, "upstream_connection_refused" },
    };

    [Theory]
    [MemberData(nameof(ProxyErrors))]
    public async Task ProxyError_ThroughTheGateway_OpenAIShapedJsonFromTheFunctionWithinFcsRules(string why, string path, int status, string code)
    {
        var gateway = why switch
        {
            "missing token, server-key mode" => await GatewayAsync(settings: AccessKit.ServerKeyMode()),
            "upstream refuses" => await GatewayAsync(upstream: $"http://127.0.0.1:{Ports.Unused()}"),
            _ => await GatewayAsync(),
        };
        var headers = why.StartsWith("missing token", StringComparison.Ordinal) ? new Dictionary<string, string> { ["Content-Type"] = "application/json" } : Authorized;

        using var response = await gateway.SendAsync("POST", path, headers, """{"model":"gpt-4o-mini","messages":[]}""");
        using var body = JsonDocument.Parse(await response.ReadToEndAsync());

        Assert.Equal(status, response.Status);
        Assert.False(response.FromFc, "FC answered itself instead of relaying the proxy's error");
        Assert.StartsWith("application/json", response.Header("Content-Type"), StringComparison.Ordinal);
        Assert.Equal(code, body.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.True(body.RootElement.GetProperty("error").TryGetProperty("message", out _));
        AssertWithinFcsRules(gateway);
    }
}
