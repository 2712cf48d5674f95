using System.Net;
using FcHandler.Hosting;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Hosting;

public sealed class ListenEndpointTests
{
    private static ListenEndpoint Read(params (string Key, string Value)[] settings)
        => ListenEndpoint.Read(TestSettings.Of(settings));

    [Fact]
    public void Read_NothingSet_IsLoopbackOn9000()
        => Assert.Equal(new ListenEndpoint(null, 9000), Read());

    [Fact]
    public void Read_InsideFc_ListensOnEveryInterface()
        => Assert.Equal(new ListenEndpoint(IPAddress.Any, 9000), Read(("FC_FUNCTION_NAME", "openai-proxy")));

    [Fact]
    public void Read_FcCustomListenPort_WinsOverFcServerPort()
        => Assert.Equal(9100, Read(("FC_CUSTOM_LISTEN_PORT", "9100"), ("FC_SERVER_PORT", "9200")).Port);

    [Fact]
    public void Read_OnlyFcServerPort_UsesIt()
        => Assert.Equal(9200, Read(("FC_SERVER_PORT", "9200")).Port);

    [Theory]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("::", "::")]
    [InlineData("[::1]", "::1")]
    public void Read_ListenHost_WinsOverDefault(string host, string address)
        => Assert.Equal(IPAddress.Parse(address), Read(("LISTEN_HOST", host), ("FC_FUNCTION_NAME", "f")).Address);

    [Theory]
    [InlineData("LISTEN_HOST", "example.com")]
    [InlineData("FC_CUSTOM_LISTEN_PORT", "http")]
    [InlineData("FC_CUSTOM_LISTEN_PORT", "70000")]
    [InlineData("FC_SERVER_PORT", "-1")]
    public void Read_InvalidValue_ThrowsNamingTheSetting(string key, string value)
    {
        var exception = Assert.Throws<ConfigurationException>(() => Read((key, value)));
        Assert.Contains(key, exception.Message, StringComparison.Ordinal);
    }
}
