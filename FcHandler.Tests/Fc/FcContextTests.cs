using FcHandler.Fc;

namespace FcHandler.Tests.Fc;

public sealed class FcContextTests
{
    private static readonly FcEnvironment Environment = new(
        "env-function", "index.handler", 128, "ap-southeast-1", "1234567890", "instance-7", "3",
        new FcCredentials("env-key-id", "env-key-secret", "env-token"));

    [Fact]
    public void Create_FcHeaders_FillEveryField()
    {
        var http = new DefaultHttpContext();
        var headers = http.Request.Headers;
        headers["x-fc-request-id"] = "req-42";
        headers["x-fc-control-path"] = "/http-invoke";
        headers["x-fc-function-name"] = "openai-proxy";
        headers["x-fc-function-handler"] = "bootstrap";
        headers["x-fc-function-memory"] = "256";
        headers["x-fc-function-timeout"] = "600";
        headers["x-fc-function-initializer"] = "init";
        headers["x-fc-initialization-timeout"] = "30";
        headers["x-fc-region"] = "us-west-1";
        headers["x-fc-account-id"] = "987";
        headers["x-fc-qualifier"] = "LATEST";
        headers["x-fc-version-id"] = "5";
        headers["x-fc-service-name"] = "svc";
        headers["x-fc-service-logproject"] = "logs";
        headers["x-fc-service-logstore"] = "store";
        headers["x-fc-access-key-id"] = "hdr-key-id";
        headers["x-fc-access-key-secret"] = "hdr-key-secret";
        headers["x-fc-security-token"] = "hdr-token";

        var fc = new FcContextFactory(Environment).Create(http);

        Assert.True(fc.FromFc);
        Assert.Equal("req-42", fc.RequestId);
        Assert.Equal(FcControlPath.HttpInvoke, fc.ControlPath);
        Assert.Equal(new FcFunctionParameter("openai-proxy", "bootstrap", "init", 256, TimeSpan.FromSeconds(600), TimeSpan.FromSeconds(30)), fc.FunctionParam);
        Assert.Equal(new FcServiceMeta("svc", "logs", "store", "LATEST", "5"), fc.ServiceMeta);
        Assert.Equal("us-west-1", fc.Region);
        Assert.Equal("987", fc.AccountId);
        Assert.Equal("instance-7", fc.InstanceId);
        Assert.Equal(("hdr-key-id", "hdr-key-secret", "hdr-token"), (fc.Credentials.AccessKeyId, fc.Credentials.AccessKeySecret, fc.Credentials.SecurityToken));
    }

    [Fact]
    public void Create_NoHeaders_UsesEnvironmentAndGeneratedRequestId()
    {
        var http = new DefaultHttpContext { TraceIdentifier = "generated-1" };

        var fc = new FcContextFactory(Environment).Create(http);

        Assert.False(fc.FromFc);
        Assert.Equal("generated-1", fc.RequestId);
        Assert.Equal(FcControlPath.HttpInvoke, fc.ControlPath);
        Assert.Equal("env-function", fc.FunctionParam.FunctionName);
        Assert.Equal(128, fc.FunctionParam.MemoryLimitInMB);
        Assert.Equal("ap-southeast-1", fc.Region);
        Assert.Equal("3", fc.ServiceMeta.VersionId);
        // custom.debian11 sends no x-fc-security-token: the role's credentials come from the environment.
        Assert.Equal("env-token", fc.Credentials.SecurityToken);
    }

    [Theory]
    [InlineData("", "HttpInvoke")]
    [InlineData("/http-invoke", "HttpInvoke")]
    [InlineData("/invoke", "Invoke")]
    [InlineData("/initialize", "Initialize")]
    [InlineData("/pre-stop", "PreStop")]
    [InlineData("/pre-freeze", "Other")]
    public void ParseControlPath_KnownValues_MapToTheirHook(string header, string expected)
        => Assert.Equal(expected, FcContextFactory.ParseControlPath(header).ToString());

    [Fact]
    public void Credentials_ToString_NeverShowsTheSecrets()
    {
        var text = $"{new FcCredentials("id-value", "secret-value", "token-value")} {Environment}";

        Assert.DoesNotContain("secret-value", text, StringComparison.Ordinal);
        Assert.DoesNotContain("token-value", text, StringComparison.Ordinal);
        Assert.DoesNotContain("env-key-secret", text, StringComparison.Ordinal);
        Assert.DoesNotContain("env-token", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_Read_PrefersDebian11VersionVariable()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(
        [
            new("FC_FUNCTION_VERSION", "7"),
            new("FC_VER_ID", "6"),
            new("FC_FUNCTION_MEMORY_SIZE", "512"),
            new("ALIBABA_CLOUD_ACCESS_KEY_ID", "id"),
        ]).Build();

        var environment = FcEnvironment.Read(configuration);

        Assert.Equal("7", environment.Version);
        Assert.Equal(512, environment.MemoryLimitInMB);
        Assert.Equal("id", environment.Credentials.AccessKeyId);
    }
}
