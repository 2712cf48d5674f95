using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FcHandler.Usage;

/// <summary>
/// One access line, as the <c>usage</c> command reads it back from a log: the proxy's JSON line as written, as
/// <c>s logs</c> prints it (a time and an instance id before it, and ANSI colours around every "error"), or inside an
/// export's JSON object whose <c>message</c> (or <c>content</c>) field holds the line. Only a whole line counts: the
/// JSON object must be all of the line (or all of it after <c>s logs</c>' two fields), never JSON found inside another
/// line, where a client could have put it (a request id, a path, a model name).
/// </summary>
internal sealed partial record AccessRecord(DateTimeOffset Time, string Route, string Subject, string Model, TokenUsage Usage, string Key = "-")
{
    private const int MaxLineLength = 64 * 1024;

    /// <summary>The access record in <paramref name="line"/>, or null for any other line.</summary>
    public static AccessRecord? Parse(string line)
    {
        if (line.Length > MaxLineLength)
        {
            return null;
        }

        var text = AnsiEscape().Replace(line, "").TrimEnd();
        if (!text.StartsWith('{'))
        {
            // s logs: "<time> <instance id> <the line>"; anything else in front is not the proxy's line.
            var framed = SLogsFrame().Match(text);
            if (!framed.Success)
            {
                return null;
            }

            text = text[framed.Length..];
        }

        return ParseObject(text, export: true);
    }

    private static AccessRecord? ParseObject(string text, bool export)
    {
        try
        {
            // JsonDocument refuses anything after the object: the object is the whole line.
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            // A request's access line, or a WebSocket's (a Realtime session's, with its responses' usage summed).
            if (Text(root, "event") is "access" or "web_socket_access")
            {
                return FromAccessLine(root);
            }

            // An export: the line, whole and as the proxy wrote it, is a field of the log entry.
            var inner = Text(root, "message") ?? Text(root, "content");
            return export && inner is not null && inner.StartsWith('{') ? ParseObject(inner.TrimEnd(), export: false) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static AccessRecord? FromAccessLine(JsonElement line)
    {
        if (!DateTimeOffset.TryParse(Text(line, "time"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return null;
        }

        var usage = line.TryGetProperty("usage", out var counts) && counts.ValueKind == JsonValueKind.Object
            ? new TokenUsage(Count(counts, "input_tokens"), Count(counts, "output_tokens"), Count(counts, "cached_tokens"),
                Count(counts, "reasoning_tokens"), Count(counts, "total_tokens"),
                counts.TryGetProperty("seconds", out var seconds) && seconds.TryGetDouble(out var value) ? value : null)
            : default;
        return new AccessRecord(time, Text(line, "route") ?? "-", Text(line, "subject") ?? "-", Text(line, "model") ?? "-", usage, Text(line, "key") ?? "-");
    }

    private static string? Text(JsonElement element, string name)
        => element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? Count(JsonElement usage, string name)
        => usage.TryGetProperty(name, out var value) && value.TryGetInt64(out var count) ? count : null;

    // s logs' prefix: a timestamp and an instance id, neither holding a space, a quote or a brace.
    [GeneratedRegex(@"^[0-9][0-9A-Za-z:.+\-]* [A-Za-z0-9][A-Za-z0-9_.:\-]* (?=\{)")]
    private static partial Regex SLogsFrame();

    // s logs colours what it prints: ESC [ ... m.
    [GeneratedRegex(@"\x1B\[[0-9;]*[A-Za-z]")]
    private static partial Regex AnsiEscape();
}
