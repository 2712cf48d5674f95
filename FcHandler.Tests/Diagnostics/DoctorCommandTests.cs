using System.Net;
using System.Net.Sockets;
using FcHandler.Diagnostics;
using FcHandler.Tests.Infrastructure;
using FcHandler.Tests.Usage;

namespace FcHandler.Tests.Diagnostics;

/// <summary><c>FcHandler doctor</c> against fake upstreams: one exit code per outcome, never the key in its output.</summary>
public sealed class DoctorCommandTests
{
    private const string Key = "sk-DOCTOR-key-must-not-be-printed-0123456789";

    // No network: every name is this machine.
    private static readonly UpstreamProbe.Resolver Loopback = (_, _) => Task.FromResult(new[] { IPAddress.Loopback });

    private static async Task<(int Exit, string Output)> RunAsync(
        string upstream, string? key = Key, UpstreamProbe.Resolver? resolve = null, string? caFile = null, string region = "ap-southeast-1")
    {
        var settings = new List<(string, string)> { ("UPSTREAM_BASE_URL", upstream), ("FC_REGION", region), ("CONNECT_TIMEOUT", "5s") };
        if (key is not null)
        {
            settings.Add(("OPENAI_API_KEY", key));
        }

        if (caFile is not null)
        {
            settings.Add(("UPSTREAM_CA_FILE", caFile));
        }

        using var output = new StringWriter();
        var exit = await DoctorCommand.RunAsync([], TestSettings.Of([.. settings]), output, resolve ?? Loopback);
        Assert.DoesNotContain(Key, output.ToString(), StringComparison.Ordinal);
        return (exit, output.ToString());
    }

    private static async Task<FakeOpenAI> AnsweringAsync(int status, string? fixture = null)
    {
        var upstream = await FakeOpenAI.StartAsync();
        upstream.Handler = (context, _) => fixture is null
            ? FakeResponses.DefaultAsync(context, new RecordedRequest("GET", "/v1/models", "", "", new Dictionary<string, string>(), []))
            : FakeResponses.JsonAsync(context, System.Text.Encoding.UTF8.GetString(UsageFixtures.Bytes(fixture)), status);
        return upstream;
    }

    [Fact]
    public async Task HealthyUpstreamOverTls_ReportsEveryStep_AndExits0()
    {
        using var certificate = TestCertificates.Localhost();
        await using var upstream = await FakeOpenAI.StartAsync(certificate);
        // Trusted as an operator trusts a private CA: the self-signed certificate is its own root.
        var caFile = Path.Combine(Directory.CreateTempSubdirectory("fchandler-doctor-").FullName, "ca.pem");
        await File.WriteAllTextAsync(caFile, certificate.ExportCertificatePem());

        var (exit, output) = await RunAsync($"https://localhost:{upstream.BaseAddress.Port}", caFile: caFile);
        Directory.Delete(Path.GetDirectoryName(caFile)!, recursive: true);

        Assert.Equal((int)DoctorOutcome.Healthy, exit);
        Assert.Matches(@"dns       localhost -> 127\.0\.0\.1 \(\d+\.\d ms\)", output);
        Assert.Matches(@"connect   .*127\.0\.0\.1:\d+ \(\d+\.\d ms\)", output);
        Assert.Matches(@"tls       TLS 1\.[23], ALPN h2, certificate CN=localhost issued by CN=localhost, expires \d{4}-\d\d-\d\d \(\d+\.\d ms\)", output);
        Assert.Contains("api       GET /v1/models: 200 in ", output, StringComparison.Ordinal);
        Assert.Contains("result    healthy", output, StringComparison.Ordinal);
        Assert.Equal("Bearer " + Key, upstream.SingleRequest.Headers["Authorization"]);
    }

    [Fact]
    public async Task RejectedKey_Exits6()
    {
        await using var upstream = await AnsweringAsync(401, "error-401.json");

        var (exit, output) = await RunAsync(upstream.BaseAddress.ToString());

        Assert.Equal((int)DoctorOutcome.KeyRejected, exit);
        Assert.Contains("GET /v1/models: 401 invalid_api_key", output, StringComparison.Ordinal);
        Assert.Contains("key rejected", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RegionRefusal_NamesTheRegionAndWhereToGo_AndExits7()
    {
        await using var upstream = await AnsweringAsync(403, "error-403-region.json");

        var (exit, output) = await RunAsync(upstream.BaseAddress.ToString(), region: "cn-hongkong");

        Assert.Equal((int)DoctorOutcome.RegionRefused, exit);
        Assert.Contains("region refused", output, StringComparison.Ordinal);
        Assert.Contains("cn-hongkong (FC_REGION)", output, StringComparison.Ordinal);
        Assert.Contains("ap-southeast-1 (Singapore)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExhaustedQuota_Exits8()
    {
        await using var upstream = await AnsweringAsync(429, "error-429-quota.json");

        var (exit, output) = await RunAsync(upstream.BaseAddress.ToString());

        Assert.Equal((int)DoctorOutcome.QuotaOrRateLimit, exit);
        Assert.Contains("quota exhausted (insufficient_quota)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UntrustedCertificate_SaysWhy_AndExits5()
    {
        using var certificate = TestCertificates.Localhost();
        await using var upstream = await FakeOpenAI.StartAsync(certificate);

        var (exit, output) = await RunAsync($"https://localhost:{upstream.BaseAddress.Port}");

        Assert.Equal((int)DoctorOutcome.TlsFailed, exit);
        // In the forwarder's words: the same check refuses it there.
        Assert.Contains("tls       failed: the certificate (CN=localhost, issued by CN=localhost) is not from a trusted authority; for a private CA, set UPSTREAM_CA_FILE", output, StringComparison.Ordinal);
        Assert.DoesNotContain("api ", output, StringComparison.Ordinal);
        Assert.Empty(upstream.Requests);
    }

    [Fact]
    public async Task NameThatDoesNotResolve_Exits3()
    {
        UpstreamProbe.Resolver nowhere = (_, _) => throw new SocketException((int)SocketError.HostNotFound);

        var (exit, output) = await RunAsync("https://api.openai.invalid", resolve: nowhere);

        Assert.Equal((int)DoctorOutcome.DnsFailed, exit);
        Assert.Contains("dns       failed: api.openai.invalid does not resolve", output, StringComparison.Ordinal);
        Assert.Contains("HostNotFound", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NothingListening_Exits4()
    {
        var (exit, output) = await RunAsync("http://127.0.0.1:9"); // the discard port: refused at once

        Assert.Equal((int)DoctorOutcome.ConnectFailed, exit);
        Assert.Contains("connect   failed: cannot connect to 127.0.0.1 port 9", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutAKey_ChecksTheConnectionOnly_AndExits0()
    {
        await using var upstream = await AnsweringAsync(200);

        var (exit, output) = await RunAsync(upstream.BaseAddress.ToString(), key: null);

        Assert.Equal((int)DoctorOutcome.Healthy, exit);
        Assert.Contains("api       not checked: set OPENAI_API_KEY", output, StringComparison.Ordinal);
        Assert.Contains("tls       none: the upstream is plain http", output, StringComparison.Ordinal);
        Assert.Empty(upstream.Requests);
    }

    [Theory]
    [InlineData("ftp://api.openai.com")]
    [InlineData("https://user:sk-x@api.openai.com")]
    public async Task BadUpstreamSetting_Exits2(string upstream)
    {
        var (exit, output) = await RunAsync(upstream);

        Assert.Equal((int)DoctorOutcome.BadUsage, exit);
        Assert.Contains("UPSTREAM_BASE_URL", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Arguments_PrintUsage_AndExit2()
    {
        using var output = new StringWriter();

        Assert.Equal(2, await DoctorCommand.RunAsync(["--verbose"], TestSettings.Of(), output, Loopback));
        Assert.StartsWith("usage: FcHandler doctor", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyPool_EveryKeyIsChecked_AndTheSummaryNamesTheHealthyOnes()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        upstream.Handler = (context, request) => request.Headers["Authorization"] == "Bearer " + Key
            ? FakeResponses.JsonAsync(context, """{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""", 401)
            : FakeResponses.DefaultAsync(context, request);
        using var output = new StringWriter();

        var exit = await DoctorCommand.RunAsync([], TestSettings.Of(
            ("UPSTREAM_BASE_URL", upstream.BaseAddress.ToString()), ("OPENAI_API_KEYS", $"main=sk-DOCTOR-other-key-0123456789,old={Key}")), output, Loopback);

        var text = output.ToString();
        Assert.Equal((int)DoctorOutcome.KeyRejected, exit);
        Assert.Contains("api       [main] GET /v1/models: 200", text, StringComparison.Ordinal);
        Assert.Contains("api       [old] GET /v1/models: 401 invalid_api_key", text, StringComparison.Ordinal);
        Assert.Contains("keys      1 of 2 healthy: main; not healthy: old", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, text, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-DOCTOR-other", text, StringComparison.Ordinal);
    }
}
