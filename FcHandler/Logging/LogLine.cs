using System.Globalization;
using System.Text;

namespace FcHandler.Logging;

/// <summary>
/// The format of every line the proxy writes: <c>2026-11-26T08:31:38.698Z info AccessLogMiddleware[1] message</c>.
/// FC's log markers (<see cref="ProxyLog.IsFcMarker"/>) are written bare, exactly as FC's own runtimes print them, so
/// FC's console can group an invocation's lines.
/// </summary>
internal static class LogLine
{
    public static string Format(string category, LogLevel level, EventId eventId, string message, Exception? exception)
    {
        if (ProxyLog.IsFcMarker(eventId))
        {
            return message + "\n";
        }

        var builder = new StringBuilder(64 + message.Length);
        builder.Append(DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z' ", CultureInfo.InvariantCulture))
            .Append(Level(level))
            .Append(' ')
            .Append(category.AsSpan(category.LastIndexOf('.') + 1))
            .Append('[')
            .Append(eventId.Id.ToString(CultureInfo.InvariantCulture))
            .Append("] ")
            .Append(message);
        if (exception is not null)
        {
            builder.Append(' ').Append(exception);
        }

        return builder.Append('\n').ToString();
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
