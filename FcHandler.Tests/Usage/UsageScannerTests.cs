using FcHandler.Usage;

namespace FcHandler.Tests.Usage;

public sealed class UsageScannerTests
{
    private static TokenUsage? Scan(params ReadOnlySpan<byte[]> writes)
    {
        var scanner = new UsageScanner();
        foreach (var write in writes)
        {
            scanner.Observe(write);
        }

        var usage = scanner.Usage;
        scanner.Complete();
        return usage;
    }

    [Theory]
    [MemberData(nameof(UsageFixtures.All), MemberType = typeof(UsageFixtures))]
    public void Fixture_InOneWrite_YieldsItsUsage(string fixture)
        => Assert.Equal(UsageFixtures.Expected[fixture], Scan(UsageFixtures.Bytes(fixture)));

    [Theory]
    [MemberData(nameof(UsageFixtures.All), MemberType = typeof(UsageFixtures))]
    public void Fixture_SplitAtEveryByte_YieldsTheSameUsage(string fixture)
    {
        var body = UsageFixtures.Bytes(fixture);
        var expected = UsageFixtures.Expected[fixture];

        for (var split = 0; split <= body.Length; split++)
        {
            var usage = Scan(body[..split], body[split..]);
            Assert.True(expected == usage, $"split at {split}: expected {expected}, got {usage}");
        }
    }

    [Theory]
    [MemberData(nameof(UsageFixtures.All), MemberType = typeof(UsageFixtures))]
    public void Fixture_OneByteAtATime_YieldsTheSameUsage(string fixture)
    {
        var body = UsageFixtures.Bytes(fixture);

        Assert.Equal(UsageFixtures.Expected[fixture], Scan([.. body.Select(b => new[] { b })]));
    }

    [Theory]
    [MemberData(nameof(UsageFixtures.WithUsage), MemberType = typeof(UsageFixtures))]
    public void Fixture_SplitInThreeAroundTheUsage_YieldsTheSameUsage(string fixture)
    {
        // Every pair of cuts inside and around the usage object, where the state machine changes state.
        var body = UsageFixtures.Bytes(fixture);
        var key = body.AsSpan().LastIndexOf("\"usage\""u8);
        var from = Math.Max(0, key - 3);
        var to = Math.Min(body.Length, key + 400);

        for (var first = from; first <= to; first++)
        {
            for (var second = first; second <= to; second += 7)
            {
                Assert.Equal(UsageFixtures.Expected[fixture], Scan(body[..first], body[first..second], body[second..]));
            }
        }
    }

    [Fact]
    public void UsageObjectLargerThanTheLimit_SpanningWrites_IsIgnoredAndReleased()
    {
        var filler = new string('x', UsageScanner.MaxUsageBytes);
        var body = System.Text.Encoding.UTF8.GetBytes($$$"""{"usage":{"note":"{{{filler}}}","prompt_tokens":5}}""");

        Assert.Null(Scan(body[..20], body[20..]));
    }

    [Theory]
    [InlineData("""{"content":"\"usage\":{\"prompt_tokens\":9}"}""")]
    [InlineData("""{"say \"usage":{"prompt_tokens":9}}""")] // a key that only ends in "usage
    [InlineData("""{"tools":[{"usage":{"type":"object"}}],"usage":null}""")]
    public void KeyThatIsNotTheUsage_IsIgnored(string json)
    {
        var body = System.Text.Encoding.UTF8.GetBytes(json);

        for (var split = 0; split <= body.Length; split++)
        {
            Assert.Null(Scan(body[..split], body[split..]));
        }
    }
}
