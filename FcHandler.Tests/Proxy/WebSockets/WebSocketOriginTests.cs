using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Proxy.WebSockets;

/// <summary>
/// Browsers apply no CORS to WebSockets, so with CORS_ALLOWED_ORIGINS set the proxy itself refuses an upgrade from a
/// page of another origin, before anything reaches the upstream.
/// </summary>
public sealed class WebSocketOriginTests : ProxyTest
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["CORS_ALLOWED_ORIGINS"] = "https://app.example.com",
    };

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("null")] // a sandboxed frame or a file:// page
    [InlineData("https://app.example.com.evil.example")]
    public async Task Upgrade_FromOriginNotListed_Is403AndReachesNothing(string origin)
    {
        var response = await RealtimeSockets.RefusedHandshakeAsync(Proxy, $"Origin: {origin}\r\nAuthorization: Bearer sk-client-key\r\n");

        Assert.Equal(403, RawHttp.StatusOf(response));
        Assert.Contains("\"code\":\"origin_not_allowed\"", response, StringComparison.Ordinal);
        Assert.Equal(0, Upstream.Connections);
        await Proxy.Logs.WaitForLineAsync(l => l.Contains("Access denied: origin_not_allowed", StringComparison.Ordinal));
        await Proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/realtime realtime 403", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("https://app.example.com")]
    [InlineData(null)] // no browser: a server-side client sends no Origin
    public async Task Upgrade_FromListedOriginOrNoBrowser_IsRelayed(string? origin)
    {
        using var socket = await RealtimeSockets.ConnectAsync(Proxy, options =>
        {
            if (origin is not null)
            {
                options.SetRequestHeader("Origin", origin);
            }
        });

        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        Assert.False(Upstream.SingleRequest.Headers.ContainsKey("Origin"));
    }

    [Fact]
    public async Task PlainRequest_FromOriginNotListed_IsStillForwarded()
    {
        // Over HTTP the browser enforces CORS itself (it withholds the answer); the proxy only leaves out the header.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation("Origin", "https://evil.example");

        using var response = await Proxy.Client.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }
}
