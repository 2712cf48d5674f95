using BenchmarkDotNet.Attributes;
using FcHandler.Logging;
using FcHandler.Usage;
using Microsoft.Extensions.Logging;

namespace FcHandler.Benchmarks;

/// <summary>Formatting one access line with usage, as text and as JSON (LOG_FORMAT): what each request pays to be logged.</summary>
[MemoryDiagnoser]
public class LogLineBenchmarks
{
    private readonly FormattingLogger _text = new(json: false);
    private readonly FormattingLogger _json = new(json: true);

    [Benchmark(Baseline = true)]
    public int Text() => Log(_text);

    [Benchmark]
    public int Json() => Log(_json);

    private static int Log(FormattingLogger logger)
    {
        ProxyLog.Access(logger, "POST", LogValue.Path("/v1/chat/completions"), "generation", 200, LogValue.Integer(200), LogValue.Milliseconds(412.34),
            LogValue.Milliseconds(9120.4), 312, 18231, LogValue.Text("alice"), default, default, LogValue.Text("gpt-4o-mini"),
            new UsageLogValue(new TokenUsage(2006, 300, 1920, 0, 2306, null)), default, "1-6700aa00-1a2b3c4d5e6f7a8b9c0d1e2f");
        return logger.Length;
    }

    /// <summary>Formats as the stdout provider does, and keeps only the length.</summary>
    private sealed class FormattingLogger(bool json) : ILogger
    {
        public int Length { get; private set; }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Length = (json
                ? JsonLogLine.Format("FcHandler.Logging.AccessLogMiddleware", logLevel, eventId, state, exception, formatter)
                : LogLine.Format("FcHandler.Logging.AccessLogMiddleware", logLevel, eventId, formatter(state, exception), exception)).Length;
    }
}
