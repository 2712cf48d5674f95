using FcHandler.Limits;

namespace FcHandler.Tests.Limits;

public sealed class RateLimitHeadersTests
{
    [Theory]
    [InlineData(0, "0s")]
    [InlineData(120, "120ms")]
    [InlineData(1000, "1s")]
    [InlineData(8640, "8.64s")]
    [InlineData(59_999, "59.999s")]
    [InlineData(60_000, "1m0s")]
    [InlineData(360_000, "6m0s")]
    [InlineData(86_400, "1m26.4s")]
    [InlineData(3_723_500, "1h2m3.5s")]
    public void Duration_IsWrittenAsOpenAIWritesResets(long milliseconds, string expected)
        => Assert.Equal(expected, RateLimitHeaders.Duration(milliseconds));

    [Fact]
    public void Merge_ProxyTighter_ReplacesOpenAIsWindow()
    {
        var headers = new HeaderDictionary
        {
            ["x-ratelimit-limit-requests"] = "10000",
            ["x-ratelimit-remaining-requests"] = "9999",
            ["x-ratelimit-reset-requests"] = "6ms",
        };

        RateLimitHeaders.Merge(headers, new RateWindow(60, 12, 45_000), null);

        Assert.Equal(("60", "12", "45s"), (headers["x-ratelimit-limit-requests"].ToString(), headers["x-ratelimit-remaining-requests"].ToString(), headers["x-ratelimit-reset-requests"].ToString()));
    }

    [Fact]
    public void Merge_OpenAITighter_LeavesItsWindowAsSent()
    {
        var headers = new HeaderDictionary
        {
            ["x-ratelimit-limit-tokens"] = "30000",
            ["x-ratelimit-remaining-tokens"] = "100",
            ["x-ratelimit-reset-tokens"] = "1m2s",
        };

        RateLimitHeaders.Merge(headers, null, new RateWindow(1_000_000, 500_000, 1000));

        Assert.Equal(("30000", "100", "1m2s"), (headers["x-ratelimit-limit-tokens"].ToString(), headers["x-ratelimit-remaining-tokens"].ToString(), headers["x-ratelimit-reset-tokens"].ToString()));
    }

    [Fact]
    public void Merge_NoUpstreamWindow_SetsTheProxys()
    {
        var headers = new HeaderDictionary();

        RateLimitHeaders.Merge(headers, null, new RateWindow(1000, 400, 61_000));

        Assert.Equal("400", headers["x-ratelimit-remaining-tokens"].ToString());
        Assert.Equal("1m1s", headers["x-ratelimit-reset-tokens"].ToString());
        Assert.False(headers.ContainsKey("x-ratelimit-remaining-requests"));
    }
}
