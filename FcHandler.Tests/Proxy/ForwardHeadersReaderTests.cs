using FcHandler.Hosting;
using FcHandler.Proxy;

namespace FcHandler.Tests.Proxy;

/// <summary>PROXY_FORWARD_HEADERS: what it accepts, what it refuses, and what start-up says when it refuses.</summary>
public sealed class ForwardHeadersReaderTests
{
    [Fact]
    public void Read_Unset_AddsNothing()
    {
        Assert.Empty(ForwardHeadersReader.Read(null));
        Assert.Empty(ForwardHeadersReader.Read("  "));
    }

    [Fact]
    public void Read_NamesAndPrefixes_AreKeptAsWritten()
        => Assert.Equal(
            ["x-my-trace-id", "X-Codex-*", "x-codex-turn-metadata", "traceparent"],
            ForwardHeadersReader.Read(" x-my-trace-id, X-Codex-* ,,x-codex-turn-metadata,traceparent"));

    [Theory]
    [InlineData("x my header")]
    [InlineData("x-a*b")]
    [InlineData("x-**")]
    [InlineData("x-header:")]
    [InlineData("x-héader")]
    [InlineData("x-(comment)")]
    public void Read_NotAHeaderName_IsRefusedByName(string entry)
    {
        var exception = Assert.Throws<ConfigurationException>(() => ForwardHeadersReader.Read($"x-fine,{entry}"));

        Assert.StartsWith("PROXY_FORWARD_HEADERS must be header names or prefixes ending in *", exception.Message, StringComparison.Ordinal);
        Assert.Contains($"'{entry}'", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("'x-fine'", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ControlCharacter_IsShownVisibly()
    {
        var exception = Assert.Throws<ConfigurationException>(() => ForwardHeadersReader.Read("x-a\nx-b"));

        Assert.Contains("'x-a?x-b'", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    // Names the proxy never forwards, and their families.
    [InlineData("X-Forwarded-For")]
    [InlineData("x-forwarded-host")]
    [InlineData("X-Forwarded")]
    [InlineData("Forwarded")]
    [InlineData("X-Real-IP")]
    [InlineData("True-Client-IP")]
    [InlineData("X-Client-IP")]
    [InlineData("Fastly-Client-IP")]
    [InlineData("CF-Connecting-IP")]
    [InlineData("cf-ipcountry")]
    [InlineData("x-fc-security-token")]
    [InlineData("x-fc-client-ip")]
    [InlineData("Ali-Cdn-Real-Ip")]
    [InlineData("EagleEye-TraceId")]
    [InlineData("Via")]
    [InlineData("Cookie")]
    [InlineData("Origin")]
    [InlineData("Referer")]
    [InlineData("Accept-Language")]
    [InlineData("Host")]
    [InlineData("Connection")]
    [InlineData("Transfer-Encoding")]
    [InlineData("Upgrade")]
    [InlineData("Proxy-Authorization")]
    // Prefixes that would cover one of them.
    [InlineData("*")]
    [InlineData("x-*")]
    [InlineData("X*")]
    [InlineData("x-forwarded*")]
    [InlineData("x-forwarded-*")]
    [InlineData("cf-*")]
    [InlineData("c*")]
    [InlineData("x-fc-*")]
    [InlineData("x-f*")]
    [InlineData("x-fc-access-*")]
    [InlineData("true-*")]
    [InlineData("accept-*")]
    [InlineData("h*")]
    public void Read_IdentityOrPlatformHeader_IsRefusedByName(string entry)
    {
        var exception = Assert.Throws<ConfigurationException>(() => ForwardHeadersReader.Read($"x-fine,{entry}"));

        Assert.StartsWith("PROXY_FORWARD_HEADERS cannot forward headers that tell the upstream the client's address or region", exception.Message, StringComparison.Ordinal);
        Assert.Contains($"refused: '{entry}'.", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SeveralRefusedEntries_NamesEachOfThem()
    {
        var exception = Assert.Throws<ConfigurationException>(() => ForwardHeadersReader.Read("x-*,x-codex-*,X-Real-IP,cookie"));

        Assert.Contains("refused: 'x-*', 'X-Real-IP', 'cookie'.", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MalformedAndRefusedEntries_NamesAllInOneMessage()
    {
        var exception = Assert.Throws<ConfigurationException>(() => ForwardHeadersReader.Read("bad name,x-codex-*,X-Real-IP"));

        Assert.Contains("not a header name: 'bad name'.", exception.Message, StringComparison.Ordinal);
        Assert.Contains("refused: 'X-Real-IP'.", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("x-codex-*")]
    [InlineData("x-my-*")]
    [InlineData("x-codex-turn-metadata")]
    [InlineData("traceparent")]
    [InlineData("accept-charset")] // shares "Accept-" with Accept-Language, but is another header
    [InlineData("x-request-id")]
    [InlineData("ChatGPT-Account-ID")]
    [InlineData("x-forward")] // not X-Forwarded
    [InlineData("OpenAI-*")] // already forwarded: harmless
    public void Read_HeaderThatTellsNothingAboutTheClient_IsAccepted(string entry)
        => Assert.Equal([entry], ForwardHeadersReader.Read(entry));

    [Theory]
    [InlineData("X-Forwarded-For")]
    [InlineData("Forwarded")]
    [InlineData("X-Real-IP")]
    [InlineData("CF-Connecting-IP")]
    [InlineData("x-fc-access-key-secret")]
    [InlineData("Cookie")]
    [InlineData("Accept-Language")]
    [InlineData("Host")]
    public void IdentityHeader_NeitherTheBuiltInRulesNorTheSettingForwardIt(string name)
    {
        Assert.False(HeaderRules.RequestAllowListWith([]).Allows(name));
        Assert.Throws<ConfigurationException>(() => ForwardHeadersReader.Read(name));
    }

    [Fact]
    public void Build_RefusedForwardHeaders_StopsStartUpNamingThem()
    {
        var exception = Assert.Throws<ConfigurationException>(() => Program.Build([], builder =>
            builder.Configuration.AddInMemoryCollection([new("PROXY_FORWARD_HEADERS", "x-codex-*,x-forwarded-*")])));

        Assert.Contains("refused: 'x-forwarded-*'", exception.Message, StringComparison.Ordinal);
    }
}
