using FcHandler.Keys;

namespace FcHandler.Tests.Keys;

/// <summary>How long a 429 rests its key: what OpenAI's headers say, within bounds, so one stray 429 never takes a key out for long.</summary>
public sealed class FailoverRuleTests
{
    [Theory]
    [InlineData("", "", 5_000)] // no header: the default
    [InlineData("retry-after-ms", "1500", 1_500)]
    [InlineData("retry-after-ms", "250", 1_000)] // at least a second
    [InlineData("retry-after", "30", 30_000)]
    [InlineData("retry-after", "86400", 600_000)] // at most ten minutes, whatever it says
    [InlineData("x-ratelimit-reset-requests", "8.64s", 8_640)]
    [InlineData("x-ratelimit-reset-tokens", "6m0s", 360_000)]
    [InlineData("x-ratelimit-reset-tokens", "1h2m3.5s", 600_000)]
    [InlineData("x-ratelimit-reset-requests", "soon", 5_000)] // unreadable: the default
    public void RateLimitRest_FollowsOpenAIsHeaders_WithinOneSecondAndTenMinutes(string header, string value, int expectedMs)
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        if (header.Length > 0)
        {
            response.Headers.TryAddWithoutValidation(header, value);
        }

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), FailoverRule.RateLimitRest(response.Headers));
    }

    [Fact]
    public void RateLimitRest_LaterOfTheTwoResets()
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        response.Headers.TryAddWithoutValidation("x-ratelimit-reset-requests", "20s");
        response.Headers.TryAddWithoutValidation("x-ratelimit-reset-tokens", "120ms");

        Assert.Equal(TimeSpan.FromSeconds(20), FailoverRule.RateLimitRest(response.Headers));
    }
}
