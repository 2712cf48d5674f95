using FcHandler.Hosting;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Hosting;

public sealed class ProxyOptionsReaderTests
{
    private static ProxyOptions Read(params (string Key, string Value)[] settings)
        => ProxyOptionsReader.Read(TestSettings.Of(settings));

    [Fact]
    public void Read_NoSettings_UsesDocumentedDefaults()
    {
        var options = Read();

        Assert.Equal("https://api.openai.com", options.DestinationPrefix);
        Assert.Equal(TimeSpan.FromMinutes(8), options.GenerationTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), options.DefaultTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), options.ConnectTimeout);
        Assert.Empty(options.CorsAllowedOrigins);
        Assert.Empty(options.ForwardHeaders);
        Assert.Null(options.UpstreamTrustAnchors);
    }

    [Fact]
    public void Read_UpstreamCaFile_LoadsItsCertificates()
    {
        using var certificates = new TestCertificates();
        var directory = Directory.CreateTempSubdirectory("fchandler-ca-");
        try
        {
            var anchors = Read(("UPSTREAM_CA_FILE", certificates.WriteAuthorityPem(directory.FullName))).UpstreamTrustAnchors;

            Assert.Equal(1, anchors!.Count);
            Assert.Equal(0, anchors.ParsedCount); // read, not parsed: that waits for a chain that names it
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("/no/such/ca.pem", "must name a readable PEM file of root certificates")]
    [InlineData("EMPTY", "must hold at least one certificate")]
    [InlineData("GARBAGE", "must name a readable PEM file of root certificates")]
    public void Read_UnusableUpstreamCaFile_ThrowsNamingTheSetting(string file, string problem)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, file == "GARBAGE" ? "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" : "no PEM here\n");
            var exception = Assert.Throws<ConfigurationException>(() => Read(("UPSTREAM_CA_FILE", file.StartsWith('/') ? file : path)));

            Assert.Contains("UPSTREAM_CA_FILE " + problem, exception.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("https://gateway.example.com/openai", "https://gateway.example.com/openai")]
    [InlineData("https://gateway.example.com/openai/", "https://gateway.example.com/openai")]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8080")]
    [InlineData("https://api.openai.com/", "https://api.openai.com")]
    public void Read_UpstreamBaseUrl_BecomesPrefixWithoutTrailingSlash(string value, string prefix)
        => Assert.Equal(prefix, Read(("UPSTREAM_BASE_URL", value)).DestinationPrefix);

    [Theory]
    [InlineData("api.openai.com")]
    [InlineData("ftp://api.openai.com")]
    [InlineData("/v1")]
    [InlineData("sk-secret-key")]
    [InlineData("https://user:sk-secret-key@api.openai.com")]
    [InlineData("https://api.openai.com/?x=1")]
    [InlineData("https://api.openai.com/#frag")]
    public void Read_InvalidUpstreamBaseUrl_ThrowsNamingTheSetting(string value)
    {
        var exception = Assert.Throws<ConfigurationException>(() => Read(("UPSTREAM_BASE_URL", value)));
        Assert.Contains("UPSTREAM_BASE_URL", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-secret-key", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_OriginList_IsKept()
        => Assert.Equal(
            ["https://app.example.com", "http://localhost:3000"],
            Read(("CORS_ALLOWED_ORIGINS", "https://app.example.com, http://localhost:3000")).CorsAllowedOrigins);

    [Theory]
    [InlineData("app.example.com")]
    [InlineData("https://app.example.com/path")]
    [InlineData("https://app.example.com/")]
    public void Read_InvalidOrigin_ThrowsNamingTheSetting(string value)
    {
        var exception = Assert.Throws<ConfigurationException>(() => Read(("CORS_ALLOWED_ORIGINS", value)));
        Assert.Contains("CORS_ALLOWED_ORIGINS", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ForwardHeaders_AreKept()
        => Assert.Equal(
            ["x-my-trace-id", "x-codex-*"],
            Read(("PROXY_FORWARD_HEADERS", "x-my-trace-id,x-codex-*")).ForwardHeaders);

    [Fact]
    public void Build_InvalidUpstream_StopsStartUpWithClearMessage()
    {
        var exception = Assert.Throws<ConfigurationException>(() => Program.Build([], builder =>
            builder.Configuration.AddInMemoryCollection([new("UPSTREAM_BASE_URL", "not a url")])));
        Assert.Contains("UPSTREAM_BASE_URL must be an absolute http or https URL", exception.Message, StringComparison.Ordinal);
    }
}
