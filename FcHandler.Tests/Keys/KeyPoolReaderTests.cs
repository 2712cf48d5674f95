using FcHandler.Hosting;
using FcHandler.Keys;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Keys;

/// <summary>OPENAI_API_KEYS as start-up reads it: names, separators, and refusals that name the entry, never the key.</summary>
public sealed class KeyPoolReaderTests
{
    private const string Key1 = "sk-proj-ONE-must-never-be-printed-0123";
    private const string Key2 = "sk-proj-TWO-must-never-be-printed-0123";

    private static IReadOnlyList<UpstreamKey> Read(string value) => KeyPoolReader.Read(TestSettings.Of(("OPENAI_API_KEYS", value)));

    [Fact]
    public void NamedAndUnnamed_CommasAndLineBreaks_AreRead()
    {
        var keys = Read($" main = {Key1} ,\n{Key2}\n");

        Assert.Equal(["main", FcHandler.Limits.KeySubject.For(Key2)], keys.Select(key => key.Label));
        Assert.Equal("Bearer " + Key1, keys[0].Authorization);
        Assert.Equal("main", keys[0].ToString());
    }

    [Fact]
    public void OneKey_InOpenAIApiKey_IsAPoolOfOne()
        => Assert.Equal("Bearer " + Key1, Assert.Single(KeyPoolReader.Read(TestSettings.Of(("OPENAI_API_KEY", Key1)))).Authorization);

    [Theory]
    [InlineData("a=KEY1,,b=KEY2", "entry 2 is empty")]
    [InlineData(",a=KEY1", "entry 1 is empty")]
    [InlineData("a=KEY1,b=KEY1", "entry 2 (b) is the same key as entry 1")]
    [InlineData("a=KEY1,a=KEY2", "entry 2 (a) uses the name of entry 1")]
    [InlineData("a=KEY1,KEY2=KEY1", "entry 2 has a name that is not")]
    [InlineData("a=KEY1,b=", "entry 2 (b) has no key after its name")]
    [InlineData("a=KEY1 KEY2", "entry 1 (a) has a space in its key")]
    [InlineData("with space=KEY1", "entry 1 has a name that is not")]
    public void BadEntry_StopsStartUp_NamingTheEntryNeverTheKey(string value, string expected)
    {
        var exception = Assert.Throws<ConfigurationException>(() => Read(value.Replace("KEY1", Key1, StringComparison.Ordinal).Replace("KEY2", Key2, StringComparison.Ordinal)));

        Assert.Contains("OPENAI_API_KEYS " + expected, exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Key1, exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Key2, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BothSettings_StopStartUp()
    {
        var exception = Assert.Throws<ConfigurationException>(() => KeyPoolReader.Read(TestSettings.Of(("OPENAI_API_KEY", Key1), ("OPENAI_API_KEYS", Key2))));

        Assert.Contains("both set", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_WithABadPool_DoesNotStart()
    {
        var exception = await Assert.ThrowsAsync<ConfigurationException>(() => ProxyHost.StartAsync(
            "http://127.0.0.1:9", new Dictionary<string, string?> { ["OPENAI_API_KEYS"] = $"a={Key1},b={Key1}", ["PROXY_ACCESS_TOKENS"] = "static-TOKEN-alpha-0123456789abcdef" }));

        Assert.Contains("entry 2 (b) is the same key as entry 1", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a=KEY1,b=KEY2", "OPENAI_API_KEYS (2)", "Key pool of OPENAI_API_KEYS: 2 keys (a, b)")]
    [InlineData("solo=KEY1", "OPENAI_API_KEYS (1)", null)]
    public async Task Proxy_WithAPool_StartUpLinesNameOpenAIApiKeys_NeverAKey(string pool, string keyMode, string? poolLine)
    {
        await using var proxy = await ProxyHost.StartAsync("http://127.0.0.1:9", new Dictionary<string, string?>
        {
            ["OPENAI_API_KEYS"] = pool.Replace("KEY1", Key1, StringComparison.Ordinal).Replace("KEY2", Key2, StringComparison.Ordinal),
            ["PROXY_ACCESS_TOKENS"] = "static-TOKEN-alpha-0123456789abcdef",
        });

        var lines = proxy.Logs.Lines;
        Assert.Contains(lines, l => l.Contains($"[11] Access control on: the OpenAI keys of {keyMode} stay server-side", StringComparison.Ordinal));
        var poolLines = lines.Where(l => l.Contains("[100] ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(poolLine is null ? 0 : 1, poolLines.Length);
        Assert.All(poolLines, l => Assert.Contains("[100] " + poolLine + ";", l, StringComparison.Ordinal));
        Assert.DoesNotMatch(@"OPENAI_API_KEY\b", proxy.Logs.All);
        Assert.DoesNotContain(Key1, proxy.Logs.All, StringComparison.Ordinal);
        Assert.DoesNotContain(Key2, proxy.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_WithOneKey_StartUpLineNamesOpenAIApiKey()
    {
        await using var proxy = await ProxyHost.StartAsync("http://127.0.0.1:9", new Dictionary<string, string?>
        {
            ["OPENAI_API_KEY"] = Key1,
            ["PROXY_ACCESS_TOKENS"] = "static-TOKEN-alpha-0123456789abcdef",
        });

        Assert.Contains(proxy.Logs.Lines, l => l.Contains("[11] Access control on: the OpenAI keys of OPENAI_API_KEY (1) stay server-side", StringComparison.Ordinal));
        Assert.DoesNotContain(proxy.Logs.Lines, l => l.Contains("[100] ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Proxy_WithAPoolButNoTokens_DoesNotStart_NamingOpenAIApiKeys()
    {
        var exception = await Assert.ThrowsAsync<ConfigurationException>(() => ProxyHost.StartAsync(
            "http://127.0.0.1:9", new Dictionary<string, string?> { ["OPENAI_API_KEYS"] = $"a={Key1},b={Key2}" }));

        Assert.StartsWith("OPENAI_API_KEYS is set, so the proxy keeps the key", exception.Message, StringComparison.Ordinal);
        Assert.Contains("or remove OPENAI_API_KEYS to let clients", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Key1, exception.Message, StringComparison.Ordinal);
    }
}
