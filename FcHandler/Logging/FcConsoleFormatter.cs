using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace FcHandler.Logging;

/// <summary>
/// One line per event: <c>2026-11-26T08:31:38.698Z info Access[1] message</c>. FC's log markers
/// (<see cref="ProxyLog.IsFcMarker"/>) are written bare, exactly as FC's own runtimes print them.
/// </summary>
internal sealed class FcConsoleFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "fc";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (ProxyLog.IsFcMarker(logEntry.EventId))
        {
            textWriter.Write(message);
            textWriter.Write('\n');
            return;
        }

        var category = logEntry.Category.AsSpan();
        category = category[(category.LastIndexOf('.') + 1)..];

        textWriter.Write(DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z' ", CultureInfo.InvariantCulture));
        textWriter.Write(Level(logEntry.LogLevel));
        textWriter.Write(' ');
        textWriter.Write(category);
        textWriter.Write('[');
        textWriter.Write(logEntry.EventId.Id.ToString(CultureInfo.InvariantCulture));
        textWriter.Write("] ");
        textWriter.Write(message);
        if (logEntry.Exception is { } exception)
        {
            textWriter.Write(' ');
            textWriter.Write(exception.ToString());
        }

        textWriter.Write('\n');
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };
}
