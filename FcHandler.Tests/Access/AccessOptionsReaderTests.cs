using FcHandler.Access;
using FcHandler.Hosting;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Access;

public sealed class AccessOptionsReaderTests
{
    private static AccessOptions Read(params (string Key, string Value)[] settings)
        => AccessOptionsReader.Read(TestSettings.Of(settings));

    private static ConfigurationException Refused(params (string Key, string Value)[] settings)
        => Assert.Throws<ConfigurationException>(() => Read(settings));

    [Fact]
    public void Read_NoSettings_AccessOffWithDocumentedLimits()
    {
        var options = Read();

        Assert.False(options.Enabled);
        Assert.Equal(32L * 1024 * 1024, options.Limits.MaxRequestBodyBytes);
        Assert.Equal(TimeSpan.FromSeconds(15), options.Limits.ClientTimeout);
        Assert.Equal(256L * 1024 * 1024, options.Limits.TempStorageBytes);
        Assert.Equal(Path.GetTempPath(), options.Limits.TempStorageDirectory);
    }

    [Fact]
    public void Read_ServerKeyWithTokens_EnablesAccessControl()
    {
        var options = Read(("OPENAI_API_KEY", AccessKit.ServerKey), ("PROXY_ACCESS_TOKENS", $" {AccessKit.StaticToken} , {AccessKit.OtherStaticToken}"),
            ("PROXY_REVOKED_TOKEN_IDS", "a, b"));

        Assert.True(options.Enabled);
        Assert.Equal([AccessKit.StaticToken, AccessKit.OtherStaticToken], options.StaticTokens);
        Assert.True(options.RevokedTokenIds.SetEquals(["a", "b"]));
    }

    [Fact]
    public void Read_ServerKeyWithoutAnyTokenSetting_FailsClosedSayingWhatToSet()
    {
        var exception = Refused(("OPENAI_API_KEY", AccessKit.ServerKey));

        Assert.Contains("PROXY_ACCESS_TOKENS", exception.Message, StringComparison.Ordinal);
        Assert.Contains("PROXY_TOKEN_SECRET", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(AccessKit.ServerKey, exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PROXY_ACCESS_TOKENS", AccessKit.StaticToken)]
    [InlineData("PROXY_TOKEN_SECRET", AccessKit.Secret)]
    public void Read_TokensWithoutServerKey_AreRefusedRatherThanIgnored(string key, string value)
    {
        var exception = Refused((key, value));

        Assert.Contains("OPENAI_API_KEY", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PROXY_ACCESS_TOKENS", "short-token")]
    [InlineData("PROXY_ACCESS_TOKENS", "fcp1.looks-like-a-signed-token")]
    [InlineData("PROXY_TOKEN_SECRET", "too-short-secret-0123456789")]
    [InlineData("OPENAI_API_KEY", "sk-two words")]
    public void Read_UnsafeValue_ThrowsNamingTheSettingWithoutEchoingIt(string key, string value)
    {
        var settings = new Dictionary<string, string>
        {
            ["OPENAI_API_KEY"] = AccessKit.ServerKey,
            ["PROXY_ACCESS_TOKENS"] = AccessKit.StaticToken,
            [key] = value,
        };

        var exception = Refused([.. settings.Select(s => (s.Key, s.Value))]);

        Assert.Contains(key, exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("4096")]
    [InlineData("lots")]
    public void Read_InvalidMaxRequestBodyMb_ThrowsNamingTheSetting(string value)
        => Assert.Contains("MAX_REQUEST_BODY_MB", Refused(("MAX_REQUEST_BODY_MB", value)).Message, StringComparison.Ordinal);

    [Fact]
    public void Read_MaxRequestBodyMb_SetsTheLimitInBytes()
        => Assert.Equal(5L * 1024 * 1024, Read(("MAX_REQUEST_BODY_MB", "5")).Limits.MaxRequestBodyBytes);

    [Theory]
    [InlineData("1s")]
    [InlineData("500ms")]
    public void Read_ClientTimeoutUnderTwoSeconds_Throws(string value)
        => Assert.Contains("CLIENT_TIMEOUT", Refused(("CLIENT_TIMEOUT", value)).Message, StringComparison.Ordinal);

    [Fact]
    public void Read_TempStorageSettings_SetBudgetAndDirectory()
    {
        var directory = Path.GetTempPath();

        var limits = Read(("TEMP_STORAGE_MB", "64"), ("TEMP_STORAGE_DIR", $" {directory} ")).Limits;

        Assert.Equal(64L * 1024 * 1024, limits.TempStorageBytes);
        Assert.Equal(directory, limits.TempStorageDirectory);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("10241")]
    [InlineData("half")]
    public void Read_InvalidTempStorageMb_ThrowsNamingTheSetting(string value)
        => Assert.Contains("TEMP_STORAGE_MB must be a whole number of megabytes from 1 to 10240", Refused(("TEMP_STORAGE_MB", value)).Message, StringComparison.Ordinal);

    [Fact]
    public void Read_TempStorageSmallerThanTheLargestBody_ThrowsBecauseSuchABodyCouldNeverBeReceived()
    {
        var message = Refused(("TEMP_STORAGE_MB", "16"), ("MAX_REQUEST_BODY_MB", "32")).Message;

        Assert.Contains("TEMP_STORAGE_MB (16) must be at least MAX_REQUEST_BODY_MB (32)", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TempStorageDirThatDoesNotExist_ThrowsNamingTheSetting()
        => Assert.Contains("TEMP_STORAGE_DIR must be an existing directory", Refused(("TEMP_STORAGE_DIR", "/no/such/dir")).Message, StringComparison.Ordinal);
}
