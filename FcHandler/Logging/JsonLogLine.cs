using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FcHandler.Logging;

/// <summary>
/// The JSON form of a log line (<c>LOG_FORMAT=json</c>): one object per line, UTF-8, that FC's log service can index
/// field by field. <c>time</c>, <c>level</c>, <c>event</c> and <c>category</c> come first, then every argument of the
/// <c>[LoggerMessage]</c> under its name in snake_case (<c>{RequestId}</c> becomes <c>request_id</c>), so lines added
/// later are JSON too without a change here; then <c>msg</c>, the text line's message (not on access lines, whose
/// fields say it all), and <c>exception</c>. FC's log markers stay bare lines, exactly as FC's runtimes print them.
/// </summary>
internal static class JsonLogLine
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };
    private static readonly ConcurrentDictionary<string, JsonEncodedText> Names = new(StringComparer.Ordinal);

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public static string Format<TState>(
        string category, LogLevel level, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (ProxyLog.IsFcMarker(eventId))
        {
            return formatter(state, exception) + "\n";
        }

        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, Options);
        writer.Reset(buffer);

        writer.WriteStartObject();
        WriteHeader(writer, level, eventId.Name, category);
        if (state is IReadOnlyList<KeyValuePair<string, object?>> fields)
        {
            foreach (var (name, value) in fields)
            {
                if (name != "{OriginalFormat}")
                {
                    WriteField(writer, NameOf(name), value);
                }
            }
        }

        if (eventId.Id != ProxyLog.AccessEventId)
        {
            writer.WriteString("msg"u8, formatter(state, exception));
        }

        Finish(writer, exception);
        return Line(buffer);
    }

    /// <summary>A line outside the logging system (the start-up failure), in the same shape.</summary>
    public static string FormatMessage(LogLevel level, string eventName, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using var writer = new Utf8JsonWriter(buffer, Options);
        writer.WriteStartObject();
        WriteHeader(writer, level, eventName, "FcHandler");
        writer.WriteString("msg"u8, message);
        Finish(writer, null);
        return Line(buffer);
    }

    private static void WriteHeader(Utf8JsonWriter writer, LogLevel level, string? eventName, string category)
    {
        writer.WriteString("time"u8, DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        writer.WriteString("level"u8, Level(level));
        if (eventName is not null)
        {
            writer.WriteString("event"u8, NameOf(eventName));
        }

        writer.WriteString("category"u8, category);
    }

    private static void Finish(Utf8JsonWriter writer, Exception? exception)
    {
        if (exception is not null)
        {
            writer.WriteString("exception"u8, exception.ToString());
        }

        writer.WriteEndObject();
        writer.Flush();
    }

    private static string Line(ArrayBufferWriter<byte> buffer)
    {
        var written = buffer.WrittenSpan;
        return string.Create(Encoding.UTF8.GetCharCount(written) + 1, buffer, static (chars, source) =>
        {
            var count = Encoding.UTF8.GetChars(source.WrittenSpan, chars);
            chars[count] = '\n';
        });
    }

    private static void WriteField(Utf8JsonWriter writer, JsonEncodedText name, object? value)
    {
        switch (value)
        {
            case null:
                break;
            case IJsonLogValue json:
                json.WriteJson(writer, name);
                break;
            case string text:
                writer.WriteString(name, text);
                break;
            case int number:
                writer.WriteNumber(name, number);
                break;
            case long number:
                writer.WriteNumber(name, number);
                break;
            case double number:
                writer.WriteNumber(name, number);
                break;
            case bool flag:
                writer.WriteBoolean(name, flag);
                break;
            case IFormattable formattable:
                writer.WriteString(name, formattable.ToString(null, CultureInfo.InvariantCulture));
                break;
            default:
                writer.WriteString(name, value.ToString());
                break;
        }
    }

    // {RequestId} -> request_id, FcInvokeStart -> fc_invoke_start; computed once per name.
    private static JsonEncodedText NameOf(string name)
        => Names.GetOrAdd(name, static n => JsonEncodedText.Encode(JsonNamingPolicy.SnakeCaseLower.ConvertName(n), JavaScriptEncoder.UnsafeRelaxedJsonEscaping));

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        LogLevel.Critical => "critical",
        _ => "none",
    };
}
