using System.Net;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Proxy.WebSockets;

/// <summary>
/// A Realtime session is silent for long stretches: the routes' idle timeouts bound its handshake, never the open
/// WebSocket.
/// </summary>
public sealed class WebSocketTimeoutTests : ProxyTest
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Short, so the test need not wait long to see them pass; DEFAULT_TIMEOUT also bounds the handshake, so it leaves a
    // loaded machine a second for that.
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["GENERATION_TIMEOUT"] = "200ms",
        ["DEFAULT_TIMEOUT"] = "1s",
    };

    [Fact]
    public async Task SilentWebSocket_OutlivesTheRouteTimeouts()
    {
        using var socket = await RealtimeSockets.ConnectAsync(Proxy);
        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);

        // A stalled request started after the socket fell silent: its 504 proves the longer idle timeout has passed.
        Upstream.Handler = (_, _) => _release.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using (var stalled = await Proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.GatewayTimeout, stalled.StatusCode);
        }

        _release.SetResult();
        await socket.SendTextAsync("still there?");
        Assert.Equal("still there?", await socket.ReceiveTextAsync());
    }

    [Fact]
    public async Task Handshake_UpstreamNeverAnswers_Is504AfterTheDefaultTimeout()
    {
        Upstream.AcceptWebSockets = false;
        Upstream.Handler = (_, _) => _release.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var response = await RealtimeSockets.RefusedHandshakeAsync(Proxy, "");
        _release.SetResult();

        Assert.Equal(504, RawHttp.StatusOf(response));
        Assert.Contains("\"code\":\"upstream_timeout\"", response, StringComparison.Ordinal);
    }
}
