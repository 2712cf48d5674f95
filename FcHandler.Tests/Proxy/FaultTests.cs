using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Proxy;

public sealed class FaultTests
{
    private static async Task<JsonElement> ErrorOf(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("error").Clone();
    }

    [Fact]
    public async Task ClientGoesAwayMidStream_UpstreamRequestIsCanceled()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        var upstreamCanceled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        upstream.Handler = async (context, _) =>
        {
            using var registration = context.RequestAborted.Register(() => upstreamCanceled.TrySetResult());
            await FakeResponses.StartSseAsync(context);
            await FakeResponses.WriteEventAsync(context, FakeResponses.ChatChunk("first"));
            await upstreamCanceled.Task;
        };
        await using var proxy = await ProxyHost.StartAsync(upstream);

        using (var client = new HttpClient { BaseAddress = proxy.BaseAddress })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("{}") };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.Contains("first", await reader.ReadLineAsync(), StringComparison.Ordinal);
        } // disposing an unfinished HTTP/1.1 response closes the connection: the client is gone

        await upstreamCanceled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await proxy.Logs.WaitForLineAsync(line => line.Contains("POST /v1/chat/completions generation 499", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UpstreamRefusesConnection_Returns502OpenAIShapedJson()
    {
        // A port that was free a moment ago: nothing listens there.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        await using var proxy = await ProxyHost.StartAsync($"http://127.0.0.1:{port}");

        using var response = await proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Equal("upstream_connection_refused", error.GetProperty("code").GetString());
        Assert.Equal("proxy_error", error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("request_id").GetString()));
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Theory]
    [InlineData("/v1/models", "DEFAULT_TIMEOUT")]
    [InlineData("/v1/chat/completions", "GENERATION_TIMEOUT")]
    public async Task UpstreamSilentPastRouteTimeout_Returns504(string path, string setting)
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        upstream.Handler = async (context, _) =>
        {
            await release.Task.WaitAsync(context.RequestAborted);
        };
        await using var proxy = await ProxyHost.StartAsync(upstream, new Dictionary<string, string?> { [setting] = "300ms" });

        try
        {
            using var response = await proxy.Client.PostAsync(new Uri(path, UriKind.Relative), new StringContent("{}"));

            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.Equal("upstream_timeout", (await ErrorOf(response)).GetProperty("code").GetString());
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task GenerationRoute_SlowerThanDefaultTimeout_StillSucceeds()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        upstream.Handler = async (context, _) =>
        {
            // Silent for longer than DEFAULT_TIMEOUT, well inside GENERATION_TIMEOUT.
            await Task.Delay(TimeSpan.FromMilliseconds(600), context.RequestAborted);
            await FakeResponses.JsonAsync(context, FakeResponses.ChatCompletion("slow"));
        };
        await using var proxy = await ProxyHost.StartAsync(upstream, new Dictionary<string, string?> { ["DEFAULT_TIMEOUT"] = "200ms" });

        using var response = await proxy.Client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), new StringContent("{}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("GET", "/")]
    [InlineData("GET", "/admin")]
    [InlineData("POST", "/chat/completions")]
    [InlineData("GET", "/v2/models")]
    public async Task PathOutsideV1_Returns404JsonAndForwardsNothing(string method, string path)
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);

        using var response = await proxy.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("unknown_url", (await ErrorOf(response)).GetProperty("code").GetString());
        Assert.Empty(upstream.Requests);
    }

    [Fact]
    public async Task HealthEndpoint_AnswersLocally()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);

        using var response = await proxy.Client.GetAsync(new Uri("/healthz", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"status":"ok"}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, upstream.Connections);
    }

    [Fact]
    public async Task UpstreamWithPathPrefix_JoinsPathAndQuery()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(new Uri(upstream.BaseAddress, "/openai/").ToString());

        using var response = await proxy.Client.GetAsync(new Uri("/v1/files?purpose=batch&limit=2", UriKind.Relative));

        Assert.Equal("/openai/v1/files", upstream.SingleRequest.Path);
        Assert.Equal("?purpose=batch&limit=2", upstream.SingleRequest.Query);
    }

    [Fact]
    public async Task Response_NeverCarriesServerHeader()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);

        var raw = await RawHttp.SendAsync(proxy.BaseAddress, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        Assert.DoesNotContain("\r\nServer:", raw, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<html", raw, StringComparison.OrdinalIgnoreCase);
    }

    // Hostile targets, smuggling and the rest of the hostile input battery: Security/HostileInputTests.cs. Upstream
    // faults (DNS, refused, timeouts, resets, TLS, HTTP/2), one row each: Security/FaultBatteryTests.cs.
}
