using FcHandler.Hosting;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Hosting;

public sealed class DurationTests
{
    [Theory]
    [InlineData("8m", 480_000)]
    [InlineData("600s", 600_000)]
    [InlineData("600", 600_000)]
    [InlineData("250ms", 250)]
    [InlineData("1h", 3_600_000)]
    [InlineData(" 2M ", 120_000)]
    public void Parse_ValidDuration_ReturnsIt(string text, long milliseconds)
        => Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), Duration.Parse("X", text));

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("-5s")]
    [InlineData("5 minutes")]
    [InlineData("5d")]
    [InlineData("1.5m")]
    [InlineData("25h")]
    [InlineData("99999999999999999999")]
    public void Parse_InvalidDuration_ThrowsNamingTheSetting(string text)
    {
        var exception = Assert.Throws<ConfigurationException>(() => Duration.Parse("GENERATION_TIMEOUT", text));
        Assert.Contains("GENERATION_TIMEOUT", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Read_UnsetOrBlank_IsNullSoTheDefaultApplies(string? value)
        => Assert.Null(Duration.Read(
            new ConfigurationBuilder().AddInMemoryCollection([new("PRE_STOP_TIMEOUT", value)]).Build(), "PRE_STOP_TIMEOUT"));

    [Fact]
    public void Read_Set_IsParsed()
        => Assert.Equal(TimeSpan.FromSeconds(25), Duration.Read(TestSettings.Of(("WARMUP_TIMEOUT", "25s")), "WARMUP_TIMEOUT"));
}
