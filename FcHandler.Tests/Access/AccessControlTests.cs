using System.Net;
using FcHandler.Tests.Infrastructure;
using FcHandler.Tests.Proxy;
using static FcHandler.Tests.Access.AccessKit;

namespace FcHandler.Tests.Access;

/// <summary>Server-key mode through real sockets: who is admitted, what the upstream sees, what the log says.</summary>
public sealed class AccessControlTests : ProxyTest
{
    protected override IDictionary<string, string?> Settings => ServerKeyMode(("PROXY_REVOKED_TOKEN_IDS", "gone-1"));

    [Fact]
    public async Task StaticToken_IsReplacedByServerKeyUpstream()
    {
        using var request = Post("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[]}""", StaticToken);
        request.Headers.Add("api-key", "client-azure-key-0123456789");
        request.Headers.Add("OpenAI-Organization", "org-client-choice");
        request.Headers.Add("OpenAI-Project", "proj_client_choice");
        request.Headers.Add("OpenAI-Beta", "assistants=v2");

        using var response = await Proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Upstream.SingleRequest;
        Assert.Equal("Bearer " + ServerKey, seen.Headers["Authorization"]);
        Assert.False(seen.Headers.ContainsKey("api-key"));
        // The operator's key decides who is billed: the client cannot pick another organization or project.
        Assert.False(seen.Headers.ContainsKey("OpenAI-Organization"));
        Assert.False(seen.Headers.ContainsKey("OpenAI-Project"));
        Assert.Equal("assistants=v2", seen.Headers["OpenAI-Beta"]);
        Assert.DoesNotContain(StaticToken, string.Join('\n', seen.Headers.Values), StringComparison.Ordinal);
        Assert.DoesNotContain(ServerKey, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CodexRequest_InServerKeyMode_KeepsItsSessionHeadersButNotItsOrganization()
    {
        var codex = FirstPartyRequests.Codex;
        var withToken = codex with
        {
            Forwarded = [.. codex.Forwarded.Where(h => h.Name != "Authorization"), ("Authorization", "Bearer " + StaticToken)],
            Dropped = [.. codex.Dropped, ("OpenAI-Organization", "org-client-choice"), ("OpenAI-Project", "proj_client_choice")],
        };

        var seen = await FirstPartyClientTests.SendAsync(Proxy, Upstream, withToken);

        Assert.Equal("Bearer " + ServerKey, seen.Headers["Authorization"]);
        Assert.Equal(codex.Forwarded.Single(h => h.Name == "session_id").Value, seen.Headers["session_id"]);
        Assert.Equal(codex.Forwarded.Single(h => h.Name == "x-codex-turn-state").Value, seen.Headers["x-codex-turn-state"]);
        Assert.Equal("codex_cli_rs", seen.Headers["originator"]);
        Assert.False(seen.Headers.ContainsKey("OpenAI-Organization"));
        Assert.False(seen.Headers.ContainsKey("OpenAI-Project"));
    }

    [Fact]
    public async Task SignedToken_AccessLogNamesSubjectNeverToken()
    {
        var token = Signed("alice");

        using var response = await Proxy.Client.SendAsync(Get("/v1/models", token));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Bearer " + ServerKey, Upstream.SingleRequest.Headers["Authorization"]);
        var line = await Proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/models pass-through 200", StringComparison.Ordinal));
        Assert.Contains("subject=alice ", line, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Split('.')[2], Proxy.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StaticToken_AccessLogNamesItsPosition()
    {
        using var response = await Proxy.Client.SendAsync(Get("/v1/models", OtherStaticToken));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/models pass-through 200", StringComparison.Ordinal) && l.Contains("subject=static-2 ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null, "missing_api_key")]
    [InlineData("sk-proj-the-clients-own-openai-key-0123", "invalid_api_key")]
    public async Task WithoutValidToken_Returns401JsonWithCorsAndForwardsNothing(string? token, string code)
    {
        using var response = await Proxy.Client.SendAsync(Post("/v1/chat/completions", "{}", token));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(code, await ErrorCodeOf(response));
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal(0, Upstream.Connections);
        await Proxy.Logs.WaitForLineAsync(l => l.Contains($"Access denied: {code}", StringComparison.Ordinal));
        await Proxy.Logs.WaitForLineAsync(l => l.Contains("POST /v1/chat/completions generation 401", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HealthAndPreflight_NeedNoToken()
    {
        using var health = await Proxy.Client.GetAsync(new Uri("/healthz", UriKind.Relative));
        using var preflight = await Proxy.Client.SendAsync(new HttpRequestMessage(HttpMethod.Options, "/v1/chat/completions"));

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal(0, Upstream.Connections);
    }

    [Fact]
    public async Task PathOutsideV1WithoutToken_Gets404ThatNamesTheBaseUrlMistake()
    {
        using var response = await Proxy.Client.SendAsync(Post("/chat/completions", "{}", null));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("unknown_url", await ErrorCodeOf(response));
    }

    [Fact]
    public async Task GenerationOnlyToken_OnPassThroughRoute_Returns403()
    {
        using var response = await Proxy.Client.SendAsync(Get("/v1/files", Signed(routes: ["generation"])));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("route_not_allowed", await ErrorCodeOf(response));
        Assert.Equal(0, Upstream.Connections);
    }

    [Fact]
    public async Task RevokedToken_Returns401TokenRevoked()
    {
        using var response = await Proxy.Client.SendAsync(Get("/v1/models", Signed(id: "gone-1")));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("token_revoked", await ErrorCodeOf(response));
        Assert.Equal(0, Upstream.Connections);
    }

    [Fact]
    public async Task EventInvocation_NeedsATokenLikeAnyRequest()
    {
        var headers = new Dictionary<string, string> { ["Content-Type"] = "application/json" };
        var anonymous = await Proxy.InvokeAsync(FcCalls.Event("POST", "/v1/chat/completions", "{}", headers));
        headers["Authorization"] = "Bearer " + StaticToken;
        var admitted = await Proxy.InvokeAsync(FcCalls.Event("POST", "/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[]}""", headers));

        Assert.Equal(401, anonymous.StatusCode);
        Assert.Equal(200, admitted.StatusCode);
        Assert.Equal("Bearer " + ServerKey, Upstream.SingleRequest.Headers["Authorization"]);
    }
}
