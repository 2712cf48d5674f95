using System.Collections.Concurrent;
using FcHandler.Logging;

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// Collects every log line the proxy writes, fully formatted, with exceptions, and each line's JSON form too
/// (<c>LOG_FORMAT=json</c>), from the same structured state: as its logger provider in process, or from a child
/// process's output (<see cref="Add"/>).
/// </summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _jsonLines = new();
    private readonly ConcurrentQueue<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _waiters = new();

    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>The same lines as <c>LOG_FORMAT=json</c> writes them.</summary>
    public IReadOnlyCollection<string> JsonLines => _jsonLines;

    /// <summary>Every line in both formats.</summary>
    public string All => string.Join('\n', _lines.Concat(_jsonLines));

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, this);

    /// <summary>Completes with the first line, written before or after the call, that matches.</summary>
    public Task<string> WaitForLineAsync(Func<string, bool> match)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Enqueue((match, found));
        foreach (var line in _lines)
        {
            if (match(line))
            {
                found.TrySetResult(line);
            }
        }

        return found.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public void Add(string line)
    {
        _lines.Enqueue(line);
        foreach (var (match, found) in _waiters)
        {
            if (match(line))
            {
                found.TrySetResult(line);
            }
        }
    }

    public void Dispose()
    {
    }

    private sealed class Logger(string category, LogCapture capture) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            capture._jsonLines.Enqueue(JsonLogLine.Format(category, logLevel, eventId, state, exception, formatter));
            capture.Add($"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)} {exception}");
        }
    }
}
