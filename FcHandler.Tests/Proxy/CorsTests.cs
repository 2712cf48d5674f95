using System.Net;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Proxy;

public sealed class CorsTests
{
    private static HttpRequestMessage Preflight(string origin, string requestedHeaders)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/v1/chat/completions");
        request.Headers.TryAddWithoutValidation("Origin", origin);
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Method", "POST");
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Headers", requestedHeaders);
        return request;
    }

    private static string? Header(HttpResponseMessage response, string name)
        => response.Headers.NonValidated.TryGetValues(name, out var values)
            || response.Content.Headers.NonValidated.TryGetValues(name, out values)
            ? values.ToString()
            : null;

    [Fact]
    public async Task Preflight_WithStainlessHeaders_Answers204LocallyReflectingThem()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);
        const string Requested = "authorization, content-type, x-stainless-arch, x-stainless-lang, x-stainless-os, x-stainless-package-version, x-stainless-retry-count, x-stainless-runtime, x-stainless-runtime-version";

        using var request = Preflight("https://chat.example.com", Requested);
        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("*", Header(response, "Access-Control-Allow-Origin"));
        Assert.Equal(Requested, Header(response, "Access-Control-Allow-Headers"));
        Assert.Contains("POST", Header(response, "Access-Control-Allow-Methods"), StringComparison.Ordinal);
        Assert.Equal("86400", Header(response, "Access-Control-Max-Age"));
        Assert.Empty(upstream.Requests);
    }

    [Fact]
    public async Task Preflight_RequestedHeadersWithControlCharacters_AreNotReflected()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);

        using var request = Preflight("https://chat.example.com", "authorization, x-a\"<b>");
        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Null(Header(response, "Access-Control-Allow-Headers"));
    }

    [Theory]
    [InlineData(429)]
    [InlineData(401)]
    [InlineData(500)]
    public async Task Response_UpstreamError_CarriesAllowOriginAndExposedHeaders(int status)
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        upstream.Handler = (context, _) =>
        {
            context.Response.Headers["Access-Control-Allow-Origin"] = "https://openai.example";
            context.Response.Headers.RetryAfter = "3";
            return FakeResponses.JsonAsync(context, """{"error":{"message":"x","type":"x","param":null,"code":null}}""", status);
        };
        await using var proxy = await ProxyHost.StartAsync(upstream);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("{}") };
        request.Headers.TryAddWithoutValidation("Origin", "https://chat.example.com");
        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("*", Header(response, "Access-Control-Allow-Origin"));
        var exposed = Header(response, "Access-Control-Expose-Headers")!;
        foreach (var name in new[] { "x-request-id", "openai-processing-ms", "x-ratelimit-remaining-requests", "retry-after" })
        {
            Assert.Contains(name, exposed, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("/nope", 404)]
    [InlineData("/v1/../etc", 400)]
    public async Task Response_LocalError_CarriesAllowOrigin(string path, int status)
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);

        var raw = await RawHttp.SendAsync(proxy.BaseAddress,
            $"GET {path} HTTP/1.1\r\nHost: x\r\nOrigin: https://chat.example.com\r\nConnection: close\r\n\r\n");

        Assert.Equal(status, RawHttp.StatusOf(raw));
        Assert.Contains("Access-Control-Allow-Origin: *", raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllowList_MatchingOrigin_IsReflectedWithVary()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream, new Dictionary<string, string?>
        {
            ["CORS_ALLOWED_ORIGINS"] = "https://chat.example.com,http://localhost:3000",
        });

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation("Origin", "http://localhost:3000");
        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal("http://localhost:3000", Header(response, "Access-Control-Allow-Origin"));
        Assert.Contains("Origin", Header(response, "Vary"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllowList_OtherOrigin_GetsNoAllowOrigin()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream, new Dictionary<string, string?>
        {
            ["CORS_ALLOWED_ORIGINS"] = "https://chat.example.com",
        });

        using var preflight = Preflight("https://evil.example", "authorization");
        using var preflightResponse = await proxy.Client.SendAsync(preflight);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation("Origin", "https://evil.example");
        using var response = await proxy.Client.SendAsync(request);

        Assert.Null(Header(preflightResponse, "Access-Control-Allow-Origin"));
        Assert.Null(Header(preflightResponse, "Access-Control-Allow-Headers"));
        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
        Assert.Contains("Origin", Header(response, "Vary"), StringComparison.Ordinal);
    }
}
