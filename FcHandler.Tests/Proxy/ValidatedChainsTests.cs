using System.Net.Security;
using System.Net.Sockets;
using FcHandler.Proxy;
using FcHandler.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace FcHandler.Tests.Proxy;

/// <summary>
/// With UPSTREAM_CA_FILE, a chain the upstream presents is built against those roots once, and remembered: the same
/// certificates are not built again, other ones are, and a remembered chain that has since expired is refused. The
/// host name is checked on every handshake all the same. .NET's own chain (against no roots) fails, as it does in the
/// proxy, so each call passes RemoteCertificateChainErrors.
/// </summary>
public sealed class ValidatedChainsTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    private UpstreamCertificateCheck Check(string host = "localhost", TimeProvider? time = null)
        => new(host, TrustAnchors.Parse(_certificates.Authority.ExportCertificatePem()), time);

    [Fact]
    public void SameChain_TwoHandshakes_IsBuiltOnce()
    {
        using var leaf = _certificates.Issue("localhost");
        var check = Check();

        Assert.True(check.Validate(this, leaf, null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.True(check.Validate(this, leaf, null, SslPolicyErrors.RemoteCertificateChainErrors));

        Assert.Equal(1, check.ChainsBuilt);
    }

    [Fact]
    public void ChangedChain_IsBuiltAgain_AndAForgedOneRefused()
    {
        using var first = _certificates.Issue("localhost");
        using var renewed = _certificates.Issue("localhost");
        using var impostor = new TestCertificates(); // the same authority's name, another key
        using var forged = impostor.Issue("localhost");
        var check = Check();

        Assert.True(check.Validate(this, first, null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.True(check.Validate(this, renewed, null, SslPolicyErrors.RemoteCertificateChainErrors));
        var refusal = Assert.Throws<UpstreamCertificateException>(() => check.Validate(this, forged, null, SslPolicyErrors.RemoteCertificateChainErrors));

        Assert.Contains("NotSignatureValid", refusal.Problem, StringComparison.Ordinal);
        Assert.Equal(3, check.ChainsBuilt);
    }

    [Fact]
    public void RememberedChain_OnceExpired_IsRefused()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var leaf = _certificates.Issue("localhost", notAfter: time.GetUtcNow().AddHours(1));
        var check = Check(time: time);
        Assert.True(check.Validate(this, leaf, null, SslPolicyErrors.RemoteCertificateChainErrors));

        time.Advance(TimeSpan.FromHours(2));
        var refusal = Assert.Throws<UpstreamCertificateException>(() => check.Validate(this, leaf, null, SslPolicyErrors.RemoteCertificateChainErrors));

        Assert.Contains("expired on", refusal.Problem, StringComparison.Ordinal);
        Assert.Equal(2, check.ChainsBuilt);
    }

    [Fact]
    public void RememberedChain_WrongHost_IsStillRefused()
    {
        using var leaf = _certificates.Issue("localhost");
        var check = Check(host: "api.example.com");
        Assert.True(check.Validate(this, leaf, null, SslPolicyErrors.RemoteCertificateChainErrors));

        var refusal = Assert.Throws<UpstreamCertificateException>(() => check.Validate(
            this, leaf, null, SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNameMismatch));

        Assert.Equal("the certificate is for localhost, not for api.example.com", refusal.Problem);
        Assert.Equal(1, check.ChainsBuilt);
    }

    [Fact]
    public async Task TwoConnections_ThroughSslStream_BuildTheChainOnce()
    {
        // What .NET hands the check on a real handshake (its own chain, the certificates the server sent) must give the
        // same key each time, or nothing would be remembered.
        using var certificate = _certificates.Issue("localhost");
        await using var upstream = await FakeOpenAI.StartAsync(certificate);
        var check = Check();

        for (var connection = 0; connection < 2; connection++)
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync("localhost", upstream.BaseAddress.Port);
            await using var tls = new SslStream(tcp.GetStream());
            var options = new SslClientAuthenticationOptions { TargetHost = "localhost" };
            check.ApplyTo(options);
            await tls.AuthenticateAsClientAsync(options);
        }

        Assert.Equal(1, check.ChainsBuilt);
    }
}
