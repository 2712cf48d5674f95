using FcHandler.Tests.Infrastructure;
using static FcHandler.Tests.Access.AccessKit;

namespace FcHandler.Tests.Security;

/// <summary>
/// Issue 27, item 2: an event's headers are JSON strings that Kestrel never parsed, so CR, LF, NUL and the like
/// must be refused before anything goes upstream: a value holding <c>\r\n</c> became a second, smuggled request on
/// an HTTP/1.1 upstream, carrying the server key. The fake upstream is plain HTTP/1.1 and records every request it
/// parses, so a smuggled one would show.
/// </summary>
public sealed class EventHeaderInjectionTests : ProxyTest
{
    private const string Smuggled =
        "sdk\r\nContent-Length: 0\r\n\r\nDELETE /v1/organization/projects/proj_victim HTTP/1.1\r\nHost: api.openai.com\r\nContent-Length: 0\r\n\r\n";

    protected override IDictionary<string, string?> Settings => ServerKeyMode(("PROXY_FC_EMULATION", "on"));

    public static TheoryData<string, string, string> InjectedHeaders() => new()
    {
        { "User-Agent", Smuggled, "headers.User-Agent" },
        { "User-Agent", "sdk\nOpenAI-Organization: org-victim", "headers.User-Agent" },
        { "User-Agent", "sdk\rOpenAI-Organization: org-victim", "headers.User-Agent" },
        { "X-Stainless-Lang", "js\0OpenAI-Organization: org-victim", "headers.X-Stainless-Lang" },
        { "X-Stainless-Lang", "js\u001bOpenAI-Organization: org-victim", "headers.X-Stainless-Lang" },
        { "X-Stainless-Lang", "js\u007fOpenAI-Organization: org-victim", "headers.X-Stainless-Lang" },
        { "X-Stainless-Lang", "js\u0085OpenAI-Organization: org-victim", "headers.X-Stainless-Lang" },
        { "X-Stainless-Lang", "jsé-org-victim", "headers.X-Stainless-Lang" },
        { "X-Stainless-Lang\r\nOpenAI-Organization", "org-victim", "headers" },
        { "OpenAI-Organization: org-victim\r\nX-A", "b", "headers" },
        { "Bad Name", "org-victim", "headers" },
        { "", "org-victim", "headers" },
    };

    [Theory]
    [MemberData(nameof(InjectedHeaders))]
    public async Task EventHeader_WithInvalidCharacters_Is400NamingTheHeaderAndNothingIsForwarded(string name, string value, string param)
    {
        var headers = new Dictionary<string, string> { ["Authorization"] = $"Bearer {StaticToken}", [name] = value };

        var result = await Proxy.InvokeAsync(FcCalls.Event("POST", "/v1/chat/completions", """{"model":"gpt-4o-mini"}""", headers));

        Assert.Equal(400, result.HttpStatus);
        Assert.Equal("invalid_event", result.Error.GetProperty("code").GetString());
        Assert.Equal(param, result.Error.GetProperty("param").GetString());
        Assert.DoesNotContain("victim", result.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("DELETE", result.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("victim", Proxy.Logs.All, StringComparison.Ordinal);
        Assert.Empty(Upstream.Requests);
        Assert.Equal(0, Upstream.Connections);

        // The same upstream then sees exactly the one request a clean event makes: nothing was left in the pipe.
        headers.Remove(name);
        headers["User-Agent"] = "sdk";
        var clean = await Proxy.InvokeAsync(FcCalls.Event("POST", "/v1/chat/completions", """{"model":"gpt-4o-mini"}""", headers));
        Assert.Equal(200, clean.StatusCode);
        var seen = Upstream.SingleRequest;
        Assert.Equal("POST", seen.Method);
        Assert.Equal("/v1/chat/completions", seen.Path);
        Assert.False(seen.Headers.ContainsKey("OpenAI-Organization"));
    }

    [Theory]
    [InlineData("/v1/models\r\n2026-12-08T00:00:00.000Z info AccessLogMiddleware[1] forged")]
    [InlineData("/v1/models\n")]
    [InlineData("/v1/\0models")]
    public async Task EventRawPath_WithControlCharacters_Is400AndNothingIsForwarded(string rawPath)
    {
        var headers = new Dictionary<string, string> { ["Authorization"] = $"Bearer {StaticToken}" };

        var result = await Proxy.InvokeAsync(FcCalls.Event("GET", rawPath, headers: headers));

        Assert.Equal(400, result.HttpStatus);
        Assert.Equal("rawPath", result.Error.GetProperty("param").GetString());
        Assert.DoesNotContain("forged", Proxy.Logs.All, StringComparison.Ordinal);
        Assert.Empty(Upstream.Requests);
    }
}
