using System.Text;
using FcHandler.Logging;

namespace FcHandler.Tests.Logging;

public sealed class StdoutLoggerTests
{
    [Fact]
    public void Lines_WrittenInOrder_AllReachTheStreamByDispose()
    {
        using var output = new MemoryStream();
        var provider = new StdoutLoggerProvider(output);
        var logger = provider.CreateLogger("FcHandler.Logging.AccessLogMiddleware");

        for (var i = 0; i < 5000; i++)
        {
            logger.LogInformation(new EventId(1), "line {Number}", i);
        }

        provider.Dispose();

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5000, lines.Length);
        Assert.All(lines.Select((line, i) => (line, i)), pair => Assert.EndsWith($" info AccessLogMiddleware[1] line {pair.i}", pair.line, StringComparison.Ordinal));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info ", lines[0]);
    }

    [Fact]
    public void FcMarker_IsWrittenBare()
    {
        Assert.Equal("FC Invoke Start RequestId: r-1\n",
            LogLine.Format("FcHandler.Fc.FcMiddleware", LogLevel.Information, new EventId(20), "FC Invoke Start RequestId: r-1", null));
    }

    [Theory]
    [InlineData("GET /v1/x\n2026-11-26T08:31:38.698Z info AccessLogMiddleware[1] forged")]
    [InlineData("GET /v1/x\r\nforged")]
    [InlineData("GET /v1/x\u2028forged\u0085forged")]
    public void TextLine_MessageWithLineBreaks_IsStillOneLine(string message)
    {
        var line = LogLine.Format("FcHandler.Logging.AccessLogMiddleware", LogLevel.Information, new EventId(1), message, null);

        Assert.Single(line.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotMatch("[\r\u2028\u0085]", line);
        Assert.EndsWith("forged\n", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Exception_StaysOnTheSameEntry()
    {
        var line = LogLine.Format("FcHandler.Logging.AccessLogMiddleware", LogLevel.Error, new EventId(3), "Unhandled failure", new InvalidOperationException("boom"));

        Assert.Matches(@"^\d{4}-\d\d-\d\dT", line);
        Assert.Contains(" fail AccessLogMiddleware[3] Unhandled failure System.InvalidOperationException: boom", line, StringComparison.Ordinal);
        Assert.EndsWith("\n", line, StringComparison.Ordinal);
    }
}
