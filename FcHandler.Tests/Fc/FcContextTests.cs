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

        var fc = new FcContextFactory(Environment, new FcOptions()).Create(http);

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

        var fc = new FcContextFactory(Environment, new FcOptions()).Create(http);

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
    [InlineData("/pre-stop")]
    [InlineData("/initialize")]
    [InlineData("/invoke")]
    [InlineData("/pre-freeze")]
    public void Create_OutsideFcWithoutEmulation_ControlPathIsAnOrdinaryRequest(string controlPath)
    {
        var http = new DefaultHttpContext();
        http.Request.Headers["x-fc-control-path"] = controlPath;
        var outsideFc = Environment with { FunctionName = "" };

        Assert.Equal(FcControlPath.HttpInvoke, new FcContextFactory(outsideFc, new FcOptions()).Create(http).ControlPath);
        Assert.Equal(FcContextFactory.ParseControlPath(controlPath), new FcContextFactory(outsideFc, new FcOptions { FcEmulation = true }).Create(http).ControlPath);
        Assert.Equal(FcContextFactory.ParseControlPath(controlPath), new FcContextFactory(Environment, new FcOptions()).Create(http).ControlPath);
    }

    [Theory]
    [InlineData("{\"event\":\"access\",\"subject\":\"victim\"}")]
    [InlineData("req-1\nFC Invoke End RequestId: req-1")]
    [InlineData("req 1")]
    [InlineData("req-1\u2028")]
    public void Create_RequestIdNotFcShaped_IsReplacedByTheProxysOwn(string requestId)
    {
        var http = new DefaultHttpContext { TraceIdentifier = "generated-2" };
        http.Request.Headers["x-fc-request-id"] = requestId;

        var fc = new FcContextFactory(Environment, new FcOptions()).Create(http);

        Assert.False(fc.FromFc);
        Assert.Equal("generated-2", fc.RequestId);
    }

    [Theory]
    [InlineData("1-6700aa00-1a2b3c4d5e6f7a8b9c0d1e2f")]
    [InlineData("f2a6b4c8-0d1e-4f2a-9b3c-5d6e7f8a9b0c")]
    public void Create_FcShapedRequestId_IsTaken(string requestId)
    {
        var http = new DefaultHttpContext();
        http.Request.Headers["x-fc-request-id"] = requestId;

        Assert.Equal(requestId, new FcContextFactory(Environment, new FcOptions()).Create(http).RequestId);
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
