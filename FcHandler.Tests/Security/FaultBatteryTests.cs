using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using FcHandler.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Features;

namespace FcHandler.Tests.Security;

/// <summary>
/// The fault battery, beside the hostile-input battery: what a bad moment between the proxy and the upstream gets,
/// over real loopback sockets. One row per fault: what the client got, what the upstream saw, how often the proxy
/// tried, and the one line the log said. Name lookups go through <see cref="SwitchableResolver"/> where a row needs to
/// fail one or move the upstream (the machine's resolver may answer in milliseconds or hang); connections are real.
/// Temporary storage: <see cref="TempStorageFaultTests"/>.
/// </summary>
public sealed class FaultBatteryTests : IDisposable
{
    private const string ChatBody = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""";

    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("fchandler-faults-");
    private readonly TestCertificates _certificates = new();

    public void Dispose()
    {
        _certificates.Dispose();
        _temp.Delete(recursive: true);
    }

    [Fact]
    public async Task DnsFailure_Gets502UpstreamDnsFailure_RetriedOnceNeverTwice()
    {
        var resolver = new SwitchableResolver { Target = null };
        await using var proxy = await ProxyHost.StartAsync("http://api.upstream.test", services: resolver.AddTo);

        using var response = await PostChatAsync(proxy);

        await AssertErrorAsync(response, HttpStatusCode.BadGateway, "upstream_dns_failure");
        Assert.Equal(2, resolver.Lookups);
        await AssertFaultLineAsync(proxy, "upstream_dns_failure before a response after 2 attempt(s)");
    }

    [Fact]
    public async Task ConnectionRefused_Gets502UpstreamConnectionRefused_AfterOneRetry()
    {
        await using var proxy = await ProxyHost.StartAsync($"http://127.0.0.1:{Ports.Unused()}");

        using var response = await PostChatAsync(proxy);

        await AssertErrorAsync(response, HttpStatusCode.BadGateway, "upstream_connection_refused");
        await AssertFaultLineAsync(proxy, "upstream_connection_refused before a response after 2 attempt(s): Connection refused");
    }

    [Fact]
    public async Task RefusedOnceThenAccepted_PostIsRetriedOnANewConnectionAndArrivesOnce()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        var resolver = new SwitchableResolver { Target = SwitchableResolver.Loopback(Ports.Unused()) };
        resolver.OnLookup = attempt =>
        {
            if (attempt == 2)
            {
                resolver.Target = SwitchableResolver.Loopback(upstream.BaseAddress.Port); // the upstream is back for the retry
            }
        };
        await using var proxy = await ProxyHost.StartAsync("http://api.upstream.test", services: resolver.AddTo);

        using var response = await PostChatAsync(proxy);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ChatBody, upstream.SingleRequest.BodyText);
        Assert.Equal(2, resolver.Lookups);
        await proxy.Logs.WaitForLineAsync(l => l.Contains("[43] Upstream fault upstream_connection_refused before the request left, retried once and answered", StringComparison.Ordinal));
        Assert.DoesNotContain(proxy.Logs.Lines, l => l.Contains("[42]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConnectTimeout_Gets504UpstreamConnectTimeout_NotRetried()
    {
        using var blackHole = await BlackHoleUpstream.StartAsync();
        var resolver = new SwitchableResolver { Target = SwitchableResolver.Loopback(blackHole.Port) };
        await using var proxy = await ProxyHost.StartAsync(
            "http://api.upstream.test", new Dictionary<string, string?> { ["CONNECT_TIMEOUT"] = "500ms" }, resolver.AddTo);

        using var response = await PostChatAsync(proxy);

        await AssertErrorAsync(response, HttpStatusCode.GatewayTimeout, "upstream_connect_timeout");
        Assert.Equal(1, resolver.Lookups); // a retry would double the client's wait
        await AssertFaultLineAsync(proxy, "upstream_connect_timeout before a response after 1 attempt(s)");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task UpstreamBreaksOffAfterReadingTheRequest_Gets502ConnectionReset_NeverRetried(bool reset)
    {
        using var upstream = BrokenUpstream.Start(reset);
        await using var proxy = await ProxyHost.StartAsync($"http://127.0.0.1:{upstream.Port}");

        using var response = await PostChatAsync(proxy);

        await AssertErrorAsync(response, HttpStatusCode.BadGateway, "upstream_connection_reset");
        Assert.Equal(1, upstream.Connections); // the request reached it: a POST must not be sent twice
        await AssertFaultLineAsync(proxy, "upstream_connection_reset before a response after 1 attempt(s)");
    }

    public static TheoryData<string, bool, string> CertificateProblems => new()
    {
        // certificate kind, UPSTREAM_CA_FILE set, what the message says
        { "right-name", false, "is not from a trusted authority; for a private CA, set UPSTREAM_CA_FILE" },
        { "wrong-name", true, "the certificate is for wrong.example, not for 127.0.0.1" },
        { "expired", true, "the certificate (CN=127.0.0.1) expired on " },
    };

    [Theory]
    [MemberData(nameof(CertificateProblems))]
    public async Task TlsCertificateRefused_Gets502UpstreamTlsFailureNamingTheProblem_NotRetried(string kind, bool trustTheCa, string problem)
    {
        var certificate = kind switch
        {
            "wrong-name" => _certificates.Issue("wrong.example"),
            "expired" => _certificates.Issue("127.0.0.1", DateTimeOffset.UtcNow.AddDays(-10), DateTimeOffset.UtcNow.AddDays(-1)),
            _ => _certificates.Issue("127.0.0.1"),
        };
        await using var upstream = await FakeOpenAI.StartAsync(certificate: certificate);
        await using var proxy = await ProxyHost.StartAsync(upstream, trustTheCa ? TrustTestCa() : null);

        using var response = await PostChatAsync(proxy);

        var error = await AssertErrorAsync(response, HttpStatusCode.BadGateway, "upstream_tls_failure");
        Assert.Contains(problem, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(upstream.Requests);
        Assert.Equal(1, upstream.Connections); // the upstream will present the same certificate again: no retry
        await AssertFaultLineAsync(proxy, "upstream_tls_failure before a response after 1 attempt(s): the certificate", problem);
    }

    [Fact]
    public async Task PrivateCaFile_TrustsTheUpstreamItIssued_ForwardsOverHttp2()
    {
        await using var upstream = await FakeOpenAI.StartAsync(certificate: _certificates.Issue("127.0.0.1"));
        var protocol = "";
        upstream.Handler = (context, _) =>
        {
            protocol = context.Request.Protocol;
            return FakeResponses.JsonAsync(context, FakeResponses.ChatCompletion("Hello!"));
        };
        await using var proxy = await ProxyHost.StartAsync(upstream, TrustTestCa());

        using var response = await PostChatAsync(proxy);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("HTTP/2", protocol);
    }

    [Fact]
    public async Task ConnectionDroppedMidResponse_ClientConnectionIsAbortedNotEndedCleanly()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        var firstEventRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        upstream.Handler = async (context, _) =>
        {
            await FakeResponses.FirstChunkThenWaitAsync(context, firstEventRead.Task);
            context.Abort(); // HTTP/1.1: the connection is reset
        };
        await using var proxy = await ProxyHost.StartAsync(upstream);

        await AssertStreamAbortedAfterFirstEventAsync(proxy, firstEventRead);

        await AssertFaultLineAsync(proxy, "upstream_connection_reset mid-response, client connection aborted after 1 attempt(s)");
    }

    [Fact]
    public async Task Http2StreamResetMidResponse_ClientConnectionIsAbortedNotEndedCleanly()
    {
        await using var upstream = await FakeOpenAI.StartAsync(certificate: _certificates.Issue("127.0.0.1"));
        var firstEventRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        upstream.Handler = async (context, _) =>
        {
            await FakeResponses.FirstChunkThenWaitAsync(context, firstEventRead.Task);
            context.Features.GetRequiredFeature<IHttpResetFeature>().Reset(2); // RST_STREAM, INTERNAL_ERROR
        };
        await using var proxy = await ProxyHost.StartAsync(upstream, TrustTestCa());

        await AssertStreamAbortedAfterFirstEventAsync(proxy, firstEventRead);

        await AssertFaultLineAsync(proxy, "upstream_protocol_error mid-response, client connection aborted after 1 attempt(s): The HTTP/2 server reset the stream. HTTP/2 error code 'INTERNAL_ERROR'");
    }

    [Fact]
    public async Task Http2GoAwayMidResponse_ClientConnectionIsAbortedNotEndedCleanly()
    {
        var firstEventRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var upstream = GoAwayUpstream.Start(_certificates.Issue("127.0.0.1"), firstEventRead.Task);
        await using var proxy = await ProxyHost.StartAsync($"https://127.0.0.1:{upstream.Port}", TrustTestCa());

        await AssertStreamAbortedAfterFirstEventAsync(proxy, firstEventRead);

        await AssertFaultLineAsync(proxy, "upstream_protocol_error mid-response, client connection aborted after 1 attempt(s): The HTTP/2 server closed the connection. HTTP/2 error code 'INTERNAL_ERROR'");
    }

    [Fact]
    public async Task Http2StreamResetBeforeTheResponse_Gets502UpstreamProtocolError_NotRetried()
    {
        await using var upstream = await FakeOpenAI.StartAsync(certificate: _certificates.Issue("127.0.0.1"));
        upstream.Handler = (context, _) =>
        {
            context.Features.GetRequiredFeature<IHttpResetFeature>().Reset(2);
            return Task.CompletedTask;
        };
        await using var proxy = await ProxyHost.StartAsync(upstream, TrustTestCa());

        using var response = await PostChatAsync(proxy);

        await AssertErrorAsync(response, HttpStatusCode.BadGateway, "upstream_protocol_error");
        Assert.Single(upstream.Requests); // it arrived: never sent twice
        await AssertFaultLineAsync(proxy, "upstream_protocol_error before a response after 1 attempt(s)");
    }

    [Theory]
    [InlineData("dns", HttpStatusCode.BadGateway, "upstream_dns_failure")]
    [InlineData("refused", HttpStatusCode.BadGateway, "upstream_connection_refused")]
    [InlineData("connect-timeout", HttpStatusCode.GatewayTimeout, "upstream_connect_timeout")]
    [InlineData("reset", HttpStatusCode.BadGateway, "upstream_connection_reset")]
    [InlineData("tls", HttpStatusCode.BadGateway, "upstream_tls_failure")]
    public async Task Fault_Under200ConcurrentRequests_EveryClientGetsItsErrorInTime_AndTheNextRequestAfterRecoverySucceeds(
        string fault, HttpStatusCode status, string code)
    {
        // Over HTTPS, as to api.openai.com: HTTP/2, one connection for all, so the pool's handling of a failed attempt
        // decides how long the others wait. The reset row speaks plain HTTP/1.1 (200 connections of its own; their 200
        // TLS handshakes at once would only measure this machine).
        const int Clients = 200;
        var connectTimeout = TimeSpan.FromSeconds(1);
        var tls = fault != "reset";
        var resolver = new SwitchableResolver();
        var settings = TrustTestCa();
        settings["CONNECT_TIMEOUT"] = "1s";
        await using var healthy = await FakeOpenAI.StartAsync(certificate: tls ? _certificates.Issue("upstream.test") : null);
        using var broken = fault == "reset" ? BrokenUpstream.Start(reset: true) : null;
        using var blackHole = fault == "connect-timeout" ? await BlackHoleUpstream.StartAsync() : null;
        await using var expired = fault == "tls"
            ? await FakeOpenAI.StartAsync(certificate: _certificates.Issue("upstream.test", DateTimeOffset.UtcNow.AddDays(-10), DateTimeOffset.UtcNow.AddDays(-1)))
            : null;
        resolver.Target = fault switch
        {
            "dns" => null,
            "refused" => SwitchableResolver.Loopback(Ports.Unused()),
            "connect-timeout" => SwitchableResolver.Loopback(blackHole!.Port),
            "reset" => SwitchableResolver.Loopback(broken!.Port),
            _ => SwitchableResolver.Loopback(expired!.BaseAddress.Port),
        };
        await using var proxy = await ProxyHost.StartAsync($"{healthy.BaseAddress.Scheme}://upstream.test:{healthy.BaseAddress.Port}", settings, resolver.AddTo);

        var answers = await Task.WhenAll(Enumerable.Range(0, Clients).Select(async _ =>
        {
            var clock = Stopwatch.StartNew();
            using var response = await PostChatAsync(proxy);
            var elapsed = clock.Elapsed;
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return (response.StatusCode, Code: json.RootElement.GetProperty("error").GetProperty("code").GetString(), elapsed);
        }));

        Assert.All(answers, answer => Assert.Equal((status, code), (answer.StatusCode, answer.Code)));
        // Generous: one connect timeout, or fast failures and one retry, with room for a loaded machine. Were a failed
        // attempt not shared with all who wait, the last of 200 would wait for 200 attempts.
        Assert.All(answers, answer => Assert.True(answer.elapsed < connectTimeout * 10, $"answered after {answer.elapsed}"));
        Assert.Empty(healthy.Requests);

        resolver.Target = SwitchableResolver.Loopback(healthy.BaseAddress.Port); // the upstream is back
        using var next = await PostChatAsync(proxy);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Single(healthy.Requests);
    }

    private Dictionary<string, string?> TrustTestCa() => new() { ["UPSTREAM_CA_FILE"] = _certificates.WriteAuthorityPem(_temp.FullName) };

    private static Task<HttpResponseMessage> PostChatAsync(ProxyHost proxy)
        => proxy.Client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), new StringContent(ChatBody, Encoding.UTF8, "application/json"));

    private static async Task<JsonElement> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("error").Clone();
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal("proxy_error", error.GetProperty("type").GetString());
        return error;
    }

    /// <summary>One warning line names the fault, and nothing else about it is logged: no stack trace, no second line.</summary>
    private static async Task AssertFaultLineAsync(ProxyHost proxy, string text, string? detail = null)
    {
        await proxy.Logs.WaitForLineAsync(l => l.Contains("[42] Upstream fault " + text, StringComparison.Ordinal)
            && l.Contains(detail ?? "", StringComparison.Ordinal));
        Assert.Single(proxy.Logs.Lines, l => l.Contains("[42]", StringComparison.Ordinal));
        Assert.DoesNotContain(proxy.Logs.Lines, l => l.Contains("Forwarding failed", StringComparison.Ordinal) || l.Contains("\n   at ", StringComparison.Ordinal));
    }

    private static async Task AssertStreamAbortedAfterFirstEventAsync(ProxyHost proxy, TaskCompletionSource firstEventRead)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(ChatBody) };
        using var response = await proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("first", await reader.ReadLineAsync(), StringComparison.Ordinal);
        firstEventRead.SetResult();
        await Assert.ThrowsAnyAsync<IOException>(() => reader.ReadToEndAsync());
    }
}
