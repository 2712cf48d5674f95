using FcHandler.Hosting;
using FcHandler.Limits;
using Microsoft.Extensions.Configuration;

namespace FcHandler.Tests.Limits;

public sealed class LimitsOptionsReaderTests
{
    private static LimitsOptions Read(params (string Key, string Value)[] settings)
        => LimitsOptionsReader.Read(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(setting => new KeyValuePair<string, string?>(setting.Key, setting.Value)))
            .Build());

    [Fact]
    public void Read_Nothing_IsNoLimitsInMemory()
    {
        var options = Read();

        Assert.False(options.AnyConfigured);
        Assert.Null(options.Store);
        Assert.Equal(StoreFailureMode.Local, options.FailureMode);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.StoreTimeout);
        Assert.Equal(16_384, options.DefaultOutputTokens);
        Assert.Equal(0, options.UtcOffsetSeconds);
        Assert.True(options.FitCap);
    }

    [Fact]
    public void Read_EverySetting_IsTaken()
    {
        var options = Read(
            ("LIMITS_STORE", "rediss://acct:p%40ss:word@r-1.redis.rds.aliyuncs.com:6380/3"),
            ("LIMITS_STORE_FAILURE", "Closed"),
            ("LIMITS_STORE_TIMEOUT", "100ms"),
            ("LIMITS_DEFAULT", "rpm=60"),
            ("LIMITS_BY_SUBJECT", "static-1 rpm=600,budget=1M/month; alice none ;"),
            ("LIMITS_DEFAULT_OUTPUT_TOKENS", "4096"),
            ("LIMITS_UTC_OFFSET", "+08:00"),
            ("LIMITS_FIT_CAP", " OFF "));

        Assert.Equal(new RedisStoreAddress("r-1.redis.rds.aliyuncs.com", 6380, "acct", "p@ss:word", 3, Tls: true), options.Store);
        Assert.Equal(StoreFailureMode.Closed, options.FailureMode);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.StoreTimeout);
        Assert.Equal("rpm=60", options.For("bob")!.Text);
        Assert.Equal("rpm=600,budget=1000000/month", options.For("static-1")!.Text);
        Assert.True(options.For("alice")!.IsNone);
        Assert.Equal(4096, options.DefaultOutputTokens);
        Assert.Equal(8 * 3600, options.UtcOffsetSeconds);
        Assert.False(options.FitCap);
    }

    [Fact]
    public void StoreAddress_Printed_NeverShowsThePassword()
    {
        var address = Read(("LIMITS_STORE", "redis://:sup3r-secret@10.0.0.5"))!.Store!;

        Assert.Equal("redis://10.0.0.5:6379/0", address.ToString());
        Assert.Equal("sup3r-secret", address.Password);
        Assert.Null(address.User);
    }

    [Theory]
    [InlineData("LIMITS_STORE", "http://:secret-pw@host", "redis://")]
    [InlineData("LIMITS_STORE", "redis://:secret-pw@host/99999", "database number")]
    [InlineData("LIMITS_STORE", "redis://:secret-pw@host/0?ssl=true", "no query")]
    [InlineData("LIMITS_STORE_FAILURE", "open", "local (the default) or closed")]
    [InlineData("LIMITS_STORE_TIMEOUT", "5ms", "from 10ms to 10s")]
    [InlineData("LIMITS_DEFAULT", "rpm=lots", "LIMITS_DEFAULT has 'rpm=lots'")]
    [InlineData("LIMITS_BY_SUBJECT", "static-1", "a subject, a space and its limits")]
    [InlineData("LIMITS_BY_SUBJECT", "bad/subject rpm=1", "a subject, a space and its limits")]
    [InlineData("LIMITS_BY_SUBJECT", "a rpm=1; a rpm=2", "names a twice")]
    [InlineData("LIMITS_BY_SUBJECT", "alice rpm=x", "LIMITS_BY_SUBJECT entry 1 (alice) has 'rpm=x'")]
    [InlineData("LIMITS_DEFAULT_OUTPUT_TOKENS", "0", "from 1 to")]
    [InlineData("LIMITS_UTC_OFFSET", "+8", "offset from UTC")]
    [InlineData("LIMITS_UTC_OFFSET", "+08:10", "offset from UTC")]
    [InlineData("LIMITS_FIT_CAP", "no", "on (the default) or off")]
    [InlineData("LIMITS_STORE_CA_FILE", "/nonexistent/ca.pem", "does not exist")]
    public void Read_BadSetting_StopsStartUpNamingItAndNeverTheSecret(string key, string value, string expected)
    {
        var exception = Assert.Throws<ConfigurationException>(() => Read((key, value)));

        Assert.Contains(key, exception.Message, StringComparison.Ordinal);
        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-pw", exception.Message, StringComparison.Ordinal);
    }
}
