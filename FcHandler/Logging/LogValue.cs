using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace FcHandler.Logging;

/// <summary>
/// An access-line field that some requests lack: "-" in a text line, left out of a JSON line. Numbers stay numbers
/// in JSON, so the log service can sum and rank them.
/// </summary>
internal readonly struct LogValue : IJsonLogValue
{
    private readonly string? _text;
    private readonly double _number;
    private readonly Kind _kind;

    private LogValue(Kind kind, string? text, double number)
    {
        _kind = kind;
        _text = text;
        _number = number;
    }

    private enum Kind
    {
        None,
        Text,
        Integer,
        Milliseconds,
    }

    private static readonly SearchValues<char> Unprintable = SearchValues.Create(
        [.. Enumerable.Range(0, 0x21).Select(c => (char)c), .. Enumerable.Range(0x7f, 0x21).Select(c => (char)c), '\u2028', '\u2029']);

    /// <summary>Longer text (a client could name a model of any length) is cut to this many characters.</summary>
    public const int MaxTextLength = 200;

    /// <summary>
    /// Text from outside (a model name the client sent, an upstream error code): cut to <see cref="MaxTextLength"/>,
    /// and in the text line, control characters and spaces become '_', so a value can neither start a forged line nor
    /// shift the fields after it.
    /// </summary>
    public static LogValue Text(string? text)
        => text is null ? default : new(Kind.Text, text.Length > MaxTextLength ? text[..MaxTextLength] : text, 0);

    /// <summary>
    /// The request's path: whole (a path is the request's identity in the log, so it is not cut), with the same
    /// escaping in the text line as <see cref="Text"/>. Kestrel refuses spaces and control characters in a target, but an
    /// event's <c>rawPath</c> is a JSON string.
    /// </summary>
    public static LogValue Path(string path) => new(Kind.Text, path, 0);

    public static LogValue Integer(long? number) => number is { } value ? new(Kind.Integer, null, value) : default;

    /// <summary>Milliseconds with one decimal, as the access line has always shown them.</summary>
    public static LogValue Milliseconds(double? milliseconds) => milliseconds is { } value ? new(Kind.Milliseconds, null, value) : default;

    public override string ToString() => _kind switch
    {
        Kind.Text => Printable(_text!),
        Kind.Integer => _number.ToString("0", CultureInfo.InvariantCulture),
        Kind.Milliseconds => _number.ToString("0.0", CultureInfo.InvariantCulture),
        _ => "-",
    };

    /// <summary>
    /// <paramref name="text"/> with every character that could end a text line or shift its fields replaced by '_':
    /// spaces and C0 controls, DEL, C1 controls (NEL among them) and the Unicode line and paragraph separators.
    /// </summary>
    public static string Printable(string text)
    {
        if (text.AsSpan().IndexOfAny(Unprintable) < 0)
        {
            return text;
        }

        return string.Create(text.Length, text, static (chars, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                chars[i] = Unprintable.Contains(source[i]) ? '_' : source[i];
            }
        });
    }

    public void WriteJson(Utf8JsonWriter writer, JsonEncodedText name)
    {
        switch (_kind)
        {
            case Kind.Text:
                writer.WriteString(name, _text);
                break;
            case Kind.Integer:
                writer.WriteNumber(name, (long)_number);
                break;
            case Kind.Milliseconds:
                writer.WriteNumber(name, Math.Round(_number, 1));
                break;
        }
    }
}
