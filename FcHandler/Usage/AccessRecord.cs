using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FcHandler.Usage;

/// <summary>
/// One access line, as the <c>usage</c> command reads it back from a log: the proxy's JSON line as written, as
/// <c>s logs</c> prints it (a time and an instance id before it, and ANSI colours around every "error"), or inside an
/// export's JSON object whose <c>message</c> (or <c>content</c>) field holds the line.
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

        var text = AnsiEscape().Replace(line, "");
        var brace = text.IndexOf('{');
        if (brace < 0)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text.AsMemory(brace).TrimEnd());
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

            // An export: the line is a field of the log entry.
            var inner = Text(root, "message") ?? Text(root, "content");
            return inner is not null && inner.TrimStart().StartsWith('{') ? Parse(inner) : null;
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

    // s logs colours what it prints: ESC [ ... m.
    [GeneratedRegex(@"\x1B\[[0-9;]*[A-Za-z]")]
    private static partial Regex AnsiEscape();
}
