using FcHandler.Usage;

namespace FcHandler.Tests.Usage;

public sealed class ErrorBodyCaptureTests
{
    [Theory]
    [MemberData(nameof(UsageFixtures.ErrorCodes), MemberType = typeof(UsageFixtures))]
    public void ErrorBody_SplitAtEveryByte_YieldsItsCode(string fixture, string code)
    {
        var body = UsageFixtures.Bytes(fixture);

        for (var split = 0; split <= body.Length; split++)
        {
            var capture = new ErrorBodyCapture();
            capture.Observe(body.AsSpan(0, split));
            capture.Observe(body.AsSpan(split));
            Assert.Equal(code, capture.Complete());
        }
    }

    [Theory]
    [InlineData("<html><body>502 Bad Gateway</body></html>")]
    [InlineData("""{"detail":"Not Found"}""")]
    [InlineData("""{"error":"plain string"}""")]
    [InlineData("")]
    public void NotOpenAIsErrorShape_YieldsNoCode(string body)
    {
        var capture = new ErrorBodyCapture();
        capture.Observe(System.Text.Encoding.UTF8.GetBytes(body));

        Assert.Null(capture.Complete());
    }

    [Fact]
    public void CodeAfterTheLimit_IsNotRead_AndNothingThrows()
    {
        var body = System.Text.Encoding.UTF8.GetBytes($$$"""{"error":{"message":"{{{new string('m', ErrorBodyCapture.MaxBytes)}}}","code":"late"}}""");
        var capture = new ErrorBodyCapture();
        capture.Observe(body);

        Assert.Null(capture.Complete());
    }
}
