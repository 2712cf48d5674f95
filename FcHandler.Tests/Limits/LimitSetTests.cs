using FcHandler.Limits;

namespace FcHandler.Tests.Limits;

public sealed class LimitSetTests
{
    [Fact]
    public void Parse_EveryKey_ReadsItAndWritesTheCanonicalText()
    {
        var set = LimitSet.Parse(" RPM=60, tpm=200k ,concurrency=4,budget=2M/Month,rpm[o3*]=5,budget[gpt-4o]=500k/day ");

        var all = set.Rules[0];
        Assert.Null(all.Model);
        Assert.Equal((60L, 200_000L, 4L, 2_000_000L, BudgetPeriod.Month), (all.RequestsPerMinute, all.TokensPerMinute, all.Concurrency, all.Budget, all.BudgetPeriod));
        Assert.Equal("rpm=60,tpm=200000,concurrency=4,budget=2000000/month,budget[gpt-4o]=500000/day,rpm[o3*]=5", set.Text);
        Assert.Equal(set.Text, LimitSet.Parse(set.Text).Text);
    }

    [Fact]
    public void Parse_Unmetered_AllowsItsClassesOnly_AndRoundTrips()
    {
        var set = LimitSet.Parse("budget=1M/month, unmetered=Evals+batches+evals");

        Assert.True(set.AllowsUnmetered("batches"));
        Assert.True(set.AllowsUnmetered("evals"));
        Assert.False(set.AllowsUnmetered("fine_tuning"));
        Assert.Equal("budget=1000000/month,unmetered=batches+evals", set.Text);
        Assert.Equal(set.Text, LimitSet.Parse(set.Text).Text);
        Assert.True(LimitSet.Parse("budget=1/total,unmetered=all").AllowsUnmetered("realtime_calls"));
    }

    [Theory]
    [InlineData("budget=1/total,unmetered=batch", "'batch' is not a class")]
    [InlineData("unmetered=batches,unmetered=evals", "sets unmetered twice")]
    [InlineData("unmetered[gpt-4o]=batches", "not to a model")]
    public void Parse_UnmeteredThatIsWrong_SaysWhat(string text, string message)
    {
        var error = Assert.Throws<FormatException>(() => LimitSet.Parse(text));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_None_IsNoLimitsAtAll()
    {
        Assert.True(LimitSet.Parse("None").IsNone);
        Assert.Empty(LimitSet.Parse("none").For("gpt-4o"));
    }

    [Fact]
    public void For_ExactModelBeatsAPrefix_AndTheLongestPrefixWins()
    {
        var set = LimitSet.Parse("rpm=100,rpm[gpt-4o*]=10,rpm[gpt-4o-mini*]=20,rpm[gpt-4o]=5");

        Assert.Equal([null, "gpt-4o"], set.For("gpt-4o").Select(rule => rule.Model));
        Assert.Equal([null, "gpt-4o-mini*"], set.For("gpt-4o-mini-2024-07-18").Select(rule => rule.Model));
        Assert.Equal([null, "gpt-4o*"], set.For("gpt-4o-2024-08-06").Select(rule => rule.Model));
        Assert.Equal([null], set.For("o3").Select(rule => rule.Model));
        Assert.Equal([null], set.For(null).Select(rule => rule.Model));
    }

    [Fact]
    public void For_OnlyModelRules_LeaveOtherModelsUnlimited()
    {
        var set = LimitSet.Parse("budget[o1-pro*]=0/total");

        Assert.Empty(set.For("gpt-4o"));
        Assert.Single(set.For("o1-pro-2025-03-19"));
    }

    [Fact]
    public void Parse_FineTunedModelWithColons_IsAModelScope()
    {
        var rule = Assert.Single(LimitSet.Parse("rpm[ft:gpt-4o-mini:acme::abc123]=3").Rules);

        Assert.True(rule.Matches("ft:gpt-4o-mini:acme::abc123"));
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("rpm", "key=value")]
    [InlineData("rpm=", "key=value")]
    [InlineData("rps=5", "unknown key")]
    [InlineData("rpm=-1", "whole number")]
    [InlineData("rpm=1.5", "whole number")]
    [InlineData("rpm=2000000000000", "whole number")]
    [InlineData("rpm=5,rpm=6", "sets rpm twice")]
    [InlineData("budget=100", "names its period")]
    [InlineData("budget=100/week", "day, month or total")]
    [InlineData("rpm[]=5", "model")]
    [InlineData("rpm[gpt 4o]=5", "model")]
    [InlineData("rpm[*]=5", "model")]
    [InlineData("rpm[gp*t]=5", "model")]
    [InlineData("rpm[gpt-4o=5", "key[model]=value")]
    public void Parse_Malformed_SaysWhatIsWrong(string text, string expected)
    {
        var exception = Assert.Throws<FormatException>(() => LimitSet.Parse(text));

        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_UnreadableText_IsNull()
    {
        Assert.Null(LimitSet.TryParse("rpm=lots"));
        Assert.Null(LimitSet.TryParse(null));
        Assert.NotNull(LimitSet.TryParse("rpm=1"));
    }

    [Fact]
    public void Parse_ZeroLimits_AreLimits()
    {
        var rule = Assert.Single(LimitSet.Parse("rpm=0,budget=0/day").Rules);

        Assert.Equal((0L, 0L), (rule.RequestsPerMinute, rule.Budget));
    }
}
