using System.Globalization;
using System.Text;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;
using static FcHandler.Tests.Access.AccessKit;

namespace FcHandler.Tests.Security;

/// <summary>
/// The hostile input battery (issue 5), over real loopback sockets against the proxy in server-key mode. The client
/// holds a valid token unless the token is the attack, so access control is not what stops the rest. Each test
/// asserts the answer and what the fake upstream saw: for refusals, not even a TCP connection.
/// </summary>
public sealed class HostileInputTests : IAsyncLifetime
{
    private const int LimitMb = 1;
    private static readonly string Auth = $"Authorization: Bearer {StaticToken}\r\n";

    private FakeOpenAI _upstream = null!;
    private ProxyHost _proxy = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAI.StartAsync();
        _upstream.Handler = (context, _) => FakeResponses.JsonAsync(context, "{}");
        _proxy = await ProxyHost.StartAsync(_upstream, ServerKeyMode(
            ("MAX_REQUEST_BODY_MB", LimitMb.ToString(CultureInfo.InvariantCulture)),
            ("CLIENT_TIMEOUT", "2s"),
            ("PROXY_REVOKED_TOKEN_IDS", "revoked-1")));
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private Task<string> SendAsync(string raw) => RawHttp.SendAsync(_proxy.BaseAddress, raw);

    private void AssertNothingForwarded()
    {
        Assert.Empty(_upstream.Requests);
        Assert.Equal(0, _upstream.Connections);
    }

    private static void AssertJsonError(string raw, int status, string code)
    {
        Assert.Equal(status, RawHttp.StatusOf(raw));
        Assert.Contains("application/json", raw, StringComparison.Ordinal);
        Assert.Contains($"\"code\":\"{code}\"", raw, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET http://evil.example/v1/models HTTP/1.1", 400)]
    [InlineData("GET http://127.0.0.1:1/v1/models HTTP/1.1", 400)]
    [InlineData("GET /v1/../admin HTTP/1.1", 400)]
    [InlineData("GET /v1/models/../files HTTP/1.1", 400)]
    [InlineData("GET /v1/%2e%2e/%2e%2e/admin HTTP/1.1", 400)]
    [InlineData("GET /v1/%252e%252e/admin HTTP/1.1", 400)]
    [InlineData("GET /v1/models%2f..%2f..%2fadmin HTTP/1.1", 400)]
    [InlineData("GET /v1\\..\\admin HTTP/1.1", 400)]
    [InlineData("CONNECT evil.example:443 HTTP/1.1", 400)]
    [InlineData("TRACE /v1/models HTTP/1.1", 405)]
    public async Task HostileTarget_IsRefusedAndForwardsNothing(string requestLine, int status)
    {
        var raw = await SendAsync($"{requestLine}\r\nHost: evil.example\r\n{Auth}Connection: close\r\n\r\n");

        Assert.Equal(status, RawHttp.StatusOf(raw));
        AssertNothingForwarded();
    }

    [Fact]
    public async Task SpoofedHost_UpstreamSeesItsOwnHostOnly()
    {
        var raw = await SendAsync(
            $"GET /v1/models HTTP/1.1\r\nHost: evil.example\r\nX-Forwarded-Host: evil.example\r\nForwarded: host=evil.example\r\n{Auth}Connection: close\r\n\r\n");

        Assert.Equal(200, RawHttp.StatusOf(raw));
        var seen = _upstream.SingleRequest;
        Assert.Equal(_upstream.BaseAddress.Authority, seen.Host);
        Assert.DoesNotContain("evil.example", string.Join('\n', seen.Headers.Select(h => $"{h.Key}: {h.Value}")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X-Note: a\rInjected: b\r\n")] // bare CR inside a value
    [InlineData("X-Note: a\r\n Injected: b\r\n")] // obsolete line folding
    [InlineData("X-Note: a\0b\r\n")] // NUL
    [InlineData("Bad Name: x\r\n")] // space in a field name
    public async Task ControlCharactersInHeaders_AreRefusedBeforeTheApp(string header)
    {
        var raw = await SendAsync($"GET /v1/models HTTP/1.1\r\nHost: x\r\n{Auth}{header}Connection: close\r\n\r\n");

        Assert.Equal(400, RawHttp.StatusOf(raw));
        AssertNothingForwarded();
    }

    [Fact]
    public async Task BareLineFeedInHeader_EndsTheLineAndNoValueUpstreamCarriesALineBreak()
    {
        // RFC 9112 2.2 lets a server accept a bare LF as a line end, and Kestrel does: it splits the line into two
        // headers rather than passing a line break on. The upstream request is rebuilt, so no value can carry one.
        var raw = await SendAsync($"GET /v1/models HTTP/1.1\r\nHost: x\r\n{Auth}X-Note: a\nOpenAI-Beta: injected\r\nConnection: close\r\n\r\n");

        Assert.Equal(200, RawHttp.StatusOf(raw));
        var seen = _upstream.SingleRequest;
        Assert.False(seen.Headers.ContainsKey("X-Note"));
        Assert.DoesNotContain(seen.Headers.Values, value => value.AsSpan().ContainsAny('\r', '\n'));
    }

    [Fact]
    public async Task ContentLengthWithChunked_ForwardsOnlyTheChunkedBodyWithItsTrueLength()
    {
        // Content-Length says 4 ("5\r\nh"); Transfer-Encoding wins (RFC 9112 6.3) and the upstream gets the truth.
        var raw = await SendAsync(
            $"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n{Auth}Content-Type: application/json\r\nContent-Length: 4\r\n" +
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n");

        Assert.Equal(200, RawHttp.StatusOf(raw));
        var seen = _upstream.SingleRequest;
        Assert.Equal("hello", seen.BodyText);
        Assert.Equal("5", seen.Headers["Content-Length"]);
        Assert.False(seen.Headers.ContainsKey("Transfer-Encoding"));
    }

    [Fact]
    public async Task SmuggledSecondRequestInChunkedBody_NeverReachesTheUpstream()
    {
        // A front end trusting Content-Length would see one request, a back end trusting the chunked framing two. Kestrel
        // reads the chunked body (empty) and, as RFC 9112 6.3 requires after such a request, closes the connection.
        const string Smuggled = "GET /v1/smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
        var raw = await SendAsync(
            $"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n{Auth}Content-Type: application/json\r\n" +
            $"Content-Length: {5 + Smuggled.Length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{Smuggled}");

        Assert.Equal(200, RawHttp.StatusOf(raw));
        Assert.Single(raw.Split("HTTP/1.1 ").Skip(1)); // one answer: the smuggled request was never read
        var seen = _upstream.SingleRequest;
        Assert.Equal("/v1/embeddings", seen.Path);
        Assert.Empty(seen.Body);
    }

    [Theory]
    [InlineData("Content-Length: 5\r\nContent-Length: 6\r\n", "hello")]
    [InlineData("Transfer-Encoding: gzip\r\n", "hello")]
    [InlineData("Transfer-Encoding: chunked, identity\r\n", "5\r\nhello\r\n0\r\n\r\n")]
    public async Task AmbiguousBodyFraming_IsRefusedBeforeTheApp(string framing, string body)
    {
        var raw = await SendAsync($"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n{Auth}{framing}Connection: close\r\n\r\n{body}");

        Assert.Equal(400, RawHttp.StatusOf(raw));
        AssertNothingForwarded();
    }

    [Theory]
    [InlineData("zz\r\nhello\r\n0\r\n\r\n")] // size is not hex
    [InlineData("5\r\nhelloXX0\r\n\r\n")] // no CRLF after the data
    [InlineData("3\r\nhello\r\n0\r\n\r\n")] // more data than the size
    [InlineData("ffffffffffffffffff\r\nx\r\n0\r\n\r\n")] // size overflows
    public async Task MalformedChunkedBody_Returns400JsonAndForwardsNothing(string body)
    {
        var raw = await SendAsync(
            $"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n{Auth}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{body}");

        Assert.Equal(400, RawHttp.StatusOf(raw));
        AssertNothingForwarded();
    }

    [Fact]
    public async Task OversizedHeaders_Get431BeforeTheApp()
    {
        var raw = await SendAsync($"GET /v1/models HTTP/1.1\r\nHost: x\r\n{Auth}X-Pad: {new string('a', 20_000)}\r\nConnection: close\r\n\r\n");

        Assert.Equal(431, RawHttp.StatusOf(raw));
        AssertNothingForwarded();
    }

    [Fact]
    public async Task TooManyHeaders_Get431BeforeTheApp()
    {
        var headers = string.Concat(Enumerable.Range(0, 150).Select(i => $"X-H{i}: v\r\n"));

        var raw = await SendAsync($"GET /v1/models HTTP/1.1\r\nHost: x\r\n{Auth}{headers}Connection: close\r\n\r\n");

        Assert.Equal(431, RawHttp.StatusOf(raw));
        AssertNothingForwarded();
    }

    [Fact]
    public async Task OversizedRequestLine_Gets414BeforeTheApp()
    {
        var raw = await SendAsync($"GET /v1/models?q={new string('a', 10_000)} HTTP/1.1\r\nHost: x\r\n{Auth}Connection: close\r\n\r\n");

        Assert.Equal(414, RawHttp.StatusOf(raw));
        AssertNothingForwarded();
    }

    [Fact]
    public async Task DeclaredBodyOverLimit_Gets413JsonBeforeAByteIsRead()
    {
        // Only the headers are sent: the answer must not wait for the body.
        var raw = await RawHttp.ExchangeAsync(_proxy.BaseAddress, (stream, token) => stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /v1/files HTTP/1.1\r\nHost: x\r\n{Auth}Content-Type: application/octet-stream\r\nContent-Length: {(LimitMb * 1024 * 1024) + 1}\r\n\r\n"), token).AsTask());

        AssertJsonError(raw, 413, "request_too_large");
        AssertNothingForwarded();
    }

    [Fact]
    public async Task ChunkedBodyOverLimit_Gets413JsonAndForwardsNothing()
    {
        var raw = await RawHttp.ExchangeAsync(_proxy.BaseAddress, async (stream, token) =>
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /v1/files HTTP/1.1\r\nHost: x\r\n{Auth}Transfer-Encoding: chunked\r\n\r\n"), token);
            var chunk = Encoding.ASCII.GetBytes($"10000\r\n{new string('x', 0x10000)}\r\n");
            for (var i = 0; i < (LimitMb * 16) + 2; i++)
            {
                await stream.WriteAsync(chunk, token);
            }

            await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), token);
        });

        AssertJsonError(raw, 413, "request_too_large");
        AssertNothingForwarded();
    }

    [Fact]
    public async Task ChunkedBodyWithinLimit_IsForwardedWhole()
    {
        var payload = new string('y', 300_000);
        var raw = await SendAsync(
            $"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n{Auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
            $"{payload.Length:x}\r\n{payload}\r\n0\r\n\r\n");

        Assert.Equal(200, RawHttp.StatusOf(raw));
        Assert.Equal(payload.Length, _upstream.SingleRequest.Body.Length);
    }

    [Fact]
    public async Task HeadersThenStalledBody_IsCutOffAndForwardsNothing()
    {
        var raw = await RawHttp.ExchangeAsync(_proxy.BaseAddress, async (stream, token) =>
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n{Auth}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"model\""), token);
            await Task.Delay(Timeout.Infinite, token); // the stall: ends when the test's read completes
        });

        AssertJsonError(raw, 408, "request_timeout");
        AssertNothingForwarded();
    }

    [Fact]
    public async Task StalledHeaders_AreCutOffBeforeTheApp()
    {
        var raw = await RawHttp.ExchangeAsync(_proxy.BaseAddress, async (stream, token) =>
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /v1/models HTTP/1.1\r\nHost: x\r\n{Auth}"), token);
            await Task.Delay(Timeout.Infinite, token);
        });

        Assert.Equal(408, RawHttp.StatusOf(raw));
        AssertNothingForwarded();
    }

    public static TheoryData<string, int, string> BadTokens => new()
    {
        { Signed(expiresIn: TimeSpan.FromSeconds(-5)), 401, "token_expired" },
        { Tampered(Signed(models: ["gpt-4o-mini"])), 401, "invalid_api_key" },
        { Signed(secret: "ANOTHER-secret-of-sufficient-length-000000"), 401, "invalid_api_key" },
        { Signed(id: "revoked-1"), 401, "token_revoked" },
        { Signed(routes: ["pass-through"]), 403, "route_not_allowed" },
        { Signed(models: ["gpt-4o"]), 403, "model_not_allowed" },
        { StaticToken[..^1] + (StaticToken[^1] == 'f' ? 'e' : 'f'), 401, "invalid_api_key" },
        { ServerKey, 401, "invalid_api_key" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task BadToken_IsRefusedWithJsonAndForwardsNothing(string token, int status, string code)
    {
        const string Body = """{"model":"gpt-4o-mini","messages":[]}""";
        var raw = await SendAsync(
            $"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n" +
            $"Content-Length: {Body.Length}\r\nConnection: close\r\n\r\n{Body}");

        AssertJsonError(raw, status, code);
        AssertNothingForwarded();
    }

    // Flips one character of the signature: the payload is untouched, the signature no longer matches it.
    private static string Tampered(string token) => token[..^2] + (token[^2] == 'A' ? 'B' : 'A') + token[^1];
}
