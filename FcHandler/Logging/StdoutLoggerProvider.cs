using System.Text;
using System.Threading.Channels;

namespace FcHandler.Logging;

/// <summary>
/// Writes log lines to stdout (stderr for the <c>invoke</c> command) from one background task, in batches: under
/// load, many lines leave in one write instead of one system call each, which on a 0.1 vCPU instance is CPU the
/// requests get back (bench/README.md measures it). Lines keep their order; a line is on its way as soon as the
/// writer is idle, and a full queue makes the logging request wait rather than drop its line.
/// </summary>
internal sealed class StdoutLoggerProvider : ILoggerProvider
{
    private const int QueueCapacity = 16 * 1024;

    private readonly Channel<string> _queue = Channel.CreateBounded<string>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly Task _writer;
    private readonly LogFormat _format;

    public StdoutLoggerProvider(Stream output, LogFormat format = LogFormat.Text)
    {
        _format = format;
        _writer = Task.Run(() => WriteAsync(output));
    }

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        // The last lines (a start-up failure, the shutdown) must reach FC's log before the process exits.
        _writer.Wait(TimeSpan.FromSeconds(2));
    }

    private void Enqueue(string line)
    {
        if (!_queue.Writer.TryWrite(line))
        {
            // Full: wait for the writer instead of losing the line. After Dispose the line is dropped.
            _queue.Writer.WriteAsync(line).AsTask().Wait();
        }
    }

    private async Task WriteAsync(Stream output)
    {
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 64 * 1024) { AutoFlush = false };
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var line))
            {
                await writer.WriteAsync(line).ConfigureAwait(false);
            }

            await writer.FlushAsync().ConfigureAwait(false);
        }
    }

    private sealed class Logger(string category, StdoutLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Enqueue(provider._format == LogFormat.Json
                    ? JsonLogLine.Format(category, logLevel, eventId, state, exception, formatter)
                    : LogLine.Format(category, logLevel, eventId, formatter(state, exception), exception));
            }
        }
    }
}
