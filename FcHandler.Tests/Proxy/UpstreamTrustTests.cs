using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FcHandler.Hosting;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Proxy;

/// <summary>
/// UPSTREAM_CA_FILE as build/bootstrap uses it on FC: a bundle of many roots (the system's), of which a handshake parses
/// only the one the upstream's chain names.
/// </summary>
public sealed class UpstreamTrustTests : IDisposable
{
    private readonly TestCertificates _certificates = new();
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("fchandler-trust-");

    public void Dispose()
    {
        _certificates.Dispose();
        _temp.Delete(recursive: true);
    }

    private string Bundle(bool withTheUpstreamsRoot)
    {
        var roots = Enumerable.Range(1, 40).Select(i =>
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN=unrelated root {i}", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            using var root = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            return root.ExportCertificatePem();
        }).ToList();
        if (withTheUpstreamsRoot)
        {
            roots.Insert(17, _certificates.Authority.ExportCertificatePem());
        }

        var path = Path.Combine(_temp.FullName, "bundle.pem");
        File.WriteAllText(path, string.Join('\n', roots));
        return path;
    }

    [Fact]
    public async Task UpstreamCaFile_BundleOfManyRoots_ParsesOnlyTheRootTheUpstreamChainsTo()
    {
        using var certificate = _certificates.Issue("localhost");
        await using var upstream = await FakeOpenAI.StartAsync(certificate);
        await using var proxy = await ProxyHost.StartAsync(
            $"https://localhost:{upstream.BaseAddress.Port}", new Dictionary<string, string?> { ["UPSTREAM_CA_FILE"] = Bundle(true) });

        using var first = await proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative));
        using var second = await proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        var anchors = proxy.Services.GetRequiredService<ProxyOptions>().UpstreamTrustAnchors!;
        Assert.Equal((41, 1), (anchors.Count, anchors.ParsedCount));
    }

    [Fact]
    public async Task UpstreamCaFile_BundleWithoutTheUpstreamsRoot_RefusesItAsUntrusted()
    {
        using var certificate = _certificates.Issue("localhost");
        await using var upstream = await FakeOpenAI.StartAsync(certificate);
        await using var proxy = await ProxyHost.StartAsync(
            $"https://localhost:{upstream.BaseAddress.Port}", new Dictionary<string, string?> { ["UPSTREAM_CA_FILE"] = Bundle(false) });

        using var response = await proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("\"code\":\"upstream_tls_failure\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("is not from a trusted authority", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(upstream.Requests);
    }
}
