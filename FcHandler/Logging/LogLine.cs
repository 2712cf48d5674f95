using System.Buffers;
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
    private static readonly SearchValues<char> LineBreaks = SearchValues.Create("\r\n\v\f\u0085\u2028\u2029");

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
            .Append(OneLine(message));
        if (exception is not null)
        {
            builder.Append(' ').Append(exception);
        }

        return builder.Append('\n').ToString();
    }

    // Every value from a client is checked or escaped where it is logged; this is the last guard of "one event, one
    // line" in the text format: a line break that slipped into a message still cannot start a forged line. An
    // exception's stack trace, after the message, keeps its lines.
    private static string OneLine(string message)
        => message.AsSpan().IndexOfAny(LineBreaks) < 0 ? message : string.Create(message.Length, message, static (chars, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                chars[i] = LineBreaks.Contains(source[i]) ? ' ' : source[i];
            }
        });

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
