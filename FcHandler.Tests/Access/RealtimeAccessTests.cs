using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;
using FcHandler.Tests.Infrastructure;
using static FcHandler.Tests.Access.AccessKit;

namespace FcHandler.Tests.Access;

/// <summary>
/// Server-key mode for the Realtime API: tokens in Authorization or, as browsers send them, in the WebSocket's
/// subprotocol list; token scopes; OpenAI's ephemeral keys. Refusals reach nothing upstream.
/// </summary>
public sealed class RealtimeAccessTests : ProxyTest
{
    protected override IDictionary<string, string?> Settings => ServerKeyMode();

    private static Action<ClientWebSocketOptions> Browser(string key) => options =>
    {
        options.AddSubProtocol("realtime");
        options.AddSubProtocol("openai-insecure-api-key." + key);
        options.AddSubProtocol("openai-beta.realtime-v1");
    };

    private static string Subprotocols(string key) => $"Sec-WebSocket-Protocol: realtime, openai-insecure-api-key.{key}\r\n";

    // The status and the OpenAI-shaped error's code of a raw (chunked) answer.
    private static (int Status, string? Code) Refusal(string response)
        => (RawHttp.StatusOf(response), Regex.Match(response, "\"code\":\"([a-z_]+)\"").Groups[1].Value);

    [Fact]
    public async Task BrowserSubprotocolToken_UpstreamSeesServerKeyAndNoTokenAnywhere()
    {
        var token = Signed("browser-user", models: ["gpt-realtime"], routes: ["realtime"]);

        using var socket = await RealtimeSockets.ConnectAsync(Proxy, Browser(token));

        Assert.Equal("realtime", socket.SubProtocol);
        Assert.Contains("session.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        var seen = Upstream.SingleRequest;
        Assert.Equal("Bearer " + ServerKey, seen.Headers["Authorization"]);
        Assert.Equal("realtime, openai-beta.realtime-v1", seen.Headers["Sec-WebSocket-Protocol"]);
        Assert.DoesNotContain(token, string.Join('\n', seen.Headers.Values) + seen.Query, StringComparison.Ordinal);
        Assert.DoesNotContain(token, string.Join('\n', socket.HttpResponseHeaders!.SelectMany(h => h.Value)), StringComparison.Ordinal);

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await Proxy.Logs.WaitForLineAsync(l => l.Contains("101 websocket", StringComparison.Ordinal) && l.Contains("subject=browser-user ", StringComparison.Ordinal));
        Assert.DoesNotContain(token, Proxy.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StaticTokenInAuthorization_SubprotocolKeysAreStillRemoved()
    {
        using var socket = await RealtimeSockets.ConnectAsync(Proxy, options =>
        {
            options.SetRequestHeader("Authorization", "Bearer " + StaticToken);
            options.AddSubProtocol("realtime");
            options.AddSubProtocol("openai-insecure-api-key.sk-someone-elses-key-0123456789");
        });

        var seen = Upstream.SingleRequest;
        Assert.Equal("Bearer " + ServerKey, seen.Headers["Authorization"]);
        Assert.Equal("realtime", seen.Headers["Sec-WebSocket-Protocol"]);
    }

    [Fact]
    public async Task TokenAloneInSubprotocolList_UpstreamGetsNoList()
    {
        using var socket = await RealtimeSockets.ConnectAsync(Proxy, options => options.AddSubProtocol("openai-insecure-api-key." + StaticToken));

        Assert.Null(socket.SubProtocol);
        Assert.False(Upstream.SingleRequest.Headers.ContainsKey("Sec-WebSocket-Protocol"));
        Assert.Equal("Bearer " + ServerKey, Upstream.SingleRequest.Headers["Authorization"]);
    }

    [Theory]
    [InlineData("Sec-WebSocket-Protocol: realtime, openai-insecure-api-key.static-TOKEN-wrong-0123456789abcdef\r\n", "invalid_api_key")]
    [InlineData("Authorization: Bearer sk-proj-an-openai-key-0123456789\r\n", "invalid_api_key")]
    [InlineData("Sec-WebSocket-Protocol: realtime\r\n", "missing_api_key")]
    public async Task Handshake_WithoutValidToken_Is401AndReachesNothing(string headers, string code)
    {
        var response = await RealtimeSockets.RefusedHandshakeAsync(Proxy, headers);

        Assert.Equal((401, code), Refusal(response));
        Assert.Equal(0, Upstream.Connections);
    }

    public static TheoryData<string, string> OutOfScope => new()
    {
        { Signed(models: ["gpt-4o-mini"]), "model_not_allowed" },
        { Signed(routes: ["generation"]), "route_not_allowed" },
    };

    [Theory]
    [MemberData(nameof(OutOfScope))]
    public async Task Handshake_OutsideTheTokensScope_Is403(string token, string code)
    {
        var response = await RealtimeSockets.RefusedHandshakeAsync(Proxy, Subprotocols(token));

        Assert.Equal((403, code), Refusal(response));
        Assert.Equal(0, Upstream.Connections);
    }

    [Theory]
    [InlineData("/v1/realtime?intent=transcription")] // a transcription session names no model
    [InlineData("/v1/realtime?call_id=rtc_123")]
    [InlineData("/v1/realtime?model=gpt-realtime&model=gpt-4o-realtime-preview")]
    public async Task Handshake_ModelScopedTokenWithoutOneReadableModel_Is403(string pathAndQuery)
    {
        var token = Signed(models: ["gpt-realtime*"]);

        var response = await RealtimeSockets.RefusedHandshakeAsync(Proxy, Subprotocols(token), pathAndQuery);

        Assert.Equal((403, "model_not_allowed"), Refusal(response));
        Assert.Equal(0, Upstream.Connections);
    }

    [Fact]
    public async Task EphemeralKeyInSubprotocol_GoesUpstreamAsTheClientsCredential()
    {
        const string ephemeral = "ek_68af296e8e408191a1120ab6383263c2";

        using var socket = await RealtimeSockets.ConnectAsync(Proxy, Browser(ephemeral));

        Assert.Equal("realtime", socket.SubProtocol);
        var seen = Upstream.SingleRequest;
        Assert.False(seen.Headers.ContainsKey("Authorization"), "the server's key went upstream with a client's ephemeral key");
        Assert.Equal($"realtime, openai-insecure-api-key.{ephemeral}, openai-beta.realtime-v1", seen.Headers["Sec-WebSocket-Protocol"]);
    }

    [Fact]
    public async Task EphemeralKey_OutsideTheRealtimeApi_Is403()
    {
        using var response = await Proxy.Client.SendAsync(Post("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[]}""", "ek_68af296e8e408191a1120ab6383263c2"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("route_not_allowed", await ErrorCodeOf(response));
        Assert.Empty(Upstream.Requests);
    }

    [Theory]
    [InlineData("/v1/realtime/client_secrets", """{"session":{"type":"realtime","model":"gpt-realtime","instructions":"Be brief."}}""", true)]
    [InlineData("/v1/realtime/sessions", """{"model":"gpt-realtime-2025-08-28","voice":"verse"}""", true)]
    [InlineData("/v1/realtime/client_secrets", """{"session":{"type":"realtime","model":"gpt-4o-realtime-preview"}}""", false)]
    [InlineData("/v1/realtime/client_secrets", """{"model":"gpt-realtime","session":{"model":"gpt-4o-realtime-preview"}}""", false)]
    [InlineData("/v1/realtime/client_secrets", """{"expires_after":{"anchor":"created_at","seconds":600}}""", false)]
    [InlineData("/v1/realtime/client_secrets", """{"session":{"type":"realtime","audio":{"output":{"model":"gpt-realtime"}}}}""", false)]
    public async Task EphemeralKeyMinting_ModelScopedToken_MustNameAnAllowedModel(string path, string body, bool allowed)
    {
        Upstream.Handler = (context, _) => FakeResponses.JsonAsync(context, """{"value":"ek_68af296e8e408191a1120ab6383263c2","expires_at":1756310470}""");

        using var response = await Proxy.Client.SendAsync(Post(path, body, Signed(models: ["gpt-realtime*"], routes: ["realtime"])));

        Assert.Equal(allowed ? HttpStatusCode.OK : HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(allowed ? body : null, Upstream.Requests.SingleOrDefault()?.BodyText);
    }

    [Theory]
    [InlineData("/v1/realtime/client_secrets?model=gpt-realtime", """{"expires_after":{"anchor":"created_at","seconds":600}}""")]
    [InlineData("/v1/realtime/client_secrets?model=gpt-realtime", """{"session":{"type":"realtime","model":"gpt-4o-realtime-preview"}}""")]
    [InlineData("/v1/realtime/client_secrets?model=gpt-realtime", "")]
    public async Task ClientSecrets_AllowedModelInTheQueryOnly_Is403(string path, string body)
    {
        using var response = await Proxy.Client.SendAsync(Post(path, body, Signed(models: ["gpt-realtime*"], routes: ["realtime"])));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("model_not_allowed", await ErrorCodeOf(response));
        Assert.Empty(Upstream.Requests);
    }

    // POST /v1/realtime/calls is multipart: "sdp", and "session", the same session as a client secret's
    // (https://developers.openai.com/api/reference/ruby/resources/realtime/subresources/calls/methods/create).
    [Theory]
    [InlineData("""{"type":"realtime","model":"gpt-realtime"}""", true)]
    [InlineData("""{"type":"realtime","model":"gpt-4o-realtime-preview"}""", false)]
    [InlineData("""{"type":"realtime","instructions":"no model"}""", false)]
    [InlineData(null, false)]
    public async Task WebRtcCall_ModelScopedToken_SessionMustNameAnAllowedModel(string? session, bool allowed)
    {
        Upstream.Handler = (context, _) =>
        {
            context.Response.StatusCode = 201;
            context.Response.ContentType = "application/sdp";
            return context.Response.WriteAsync("v=0\r\no=answer\r\n");
        };
        using var form = new MultipartFormDataContent { { new StringContent("v=0\r\no=offer\r\n"), "sdp" } };
        if (session is not null)
        {
            form.Add(new StringContent(session, Encoding.UTF8, "application/json"), "session");
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/realtime/calls?model=gpt-realtime") { Content = form };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Signed(models: ["gpt-realtime"], routes: ["realtime"]));

        using var response = await Proxy.Client.SendAsync(request);

        Assert.Equal(allowed ? HttpStatusCode.Created : HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(allowed ? 1 : 0, Upstream.Requests.Count);
    }

    [Fact]
    public async Task WebRtcCall_ModelScopedTokenWithAPlainSdpBody_Is403()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/realtime/calls?model=gpt-realtime")
        {
            Content = new StringContent("v=0\r\no=offer\r\n", Encoding.UTF8, "application/sdp"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Signed(models: ["gpt-realtime"], routes: ["realtime"]));

        using var response = await Proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("model_not_allowed", await ErrorCodeOf(response));
        Assert.Empty(Upstream.Requests);
    }

    [Fact]
    public async Task WebRtcCall_PlainHttpPost_IsForwardedWithTheServerKey()
    {
        // WebRTC's SDP offer is a plain HTTP POST (https://platform.openai.com/docs/guides/realtime-webrtc).
        Upstream.Handler = (context, _) =>
        {
            context.Response.StatusCode = 201;
            context.Response.ContentType = "application/sdp";
            return context.Response.WriteAsync("v=0\r\no=answer\r\n");
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/realtime/calls?model=gpt-realtime")
        {
            Content = new StringContent("v=0\r\no=offer\r\n", Encoding.UTF8, "application/sdp"),
        };
        // No model scope: a plain SDP body names no model a scope could check (see the test above).
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Signed(routes: ["realtime"]));

        using var response = await Proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("v=0\r\no=answer\r\n", await response.Content.ReadAsStringAsync());
        var seen = Upstream.SingleRequest;
        Assert.Equal(("POST", "/v1/realtime/calls", "v=0\r\no=offer\r\n"), (seen.Method, seen.Path, seen.BodyText));
        Assert.Equal("Bearer " + ServerKey, seen.Headers["Authorization"]);
    }
}
