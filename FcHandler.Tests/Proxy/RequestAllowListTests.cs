using FcHandler.Proxy;

namespace FcHandler.Tests.Proxy;

/// <summary>The request rule as start-up builds it, with and without PROXY_FORWARD_HEADERS.</summary>
public sealed class RequestAllowListTests
{
    private static readonly RequestAllowList WithAdditions = HeaderRules.RequestAllowListWith(["x-my-trace-id", "X-Codex-*"]);

    [Theory]
    [InlineData("Authorization", true)]
    [InlineData("session_id", true)]
    [InlineData("OPENAI-BETA", true)]
    [InlineData("x-my-trace-id", true)]
    [InlineData("X-MY-TRACE-ID", true)]
    [InlineData("x-codex-turn-metadata", true)]
    [InlineData("x-my-trace-id-2", false)]
    [InlineData("X-Forwarded-For", false)]
    [InlineData("x-fc-security-token", false)]
    public void WithAdditions_Header_IsAllowedByNameOrPrefix(string name, bool allowed)
        => Assert.Equal(allowed, WithAdditions.Allows(name));

    [Theory]
    [InlineData("x-my-trace-id")]
    [InlineData("x-codex-turn-metadata")]
    public void WithoutAdditions_OperatorHeader_IsDropped(string name)
        => Assert.False(HeaderRules.RequestAllowListWith([]).Allows(name));

    [Theory]
    [InlineData("Authorization")] // exact name
    [InlineData("x-stainless-retry-count")] // built-in prefix
    [InlineData("X-Codex-Turn-Metadata")] // operator's prefix
    [InlineData("X-Forwarded-For")] // no match at all
    public void Allows_AnyHeader_AllocatesNothing(string name)
    {
        WithAdditions.Allows(name); // warm up: statics and JIT
        var before = GC.GetAllocatedBytesForCurrentThread();
        WithAdditions.Allows(name);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
