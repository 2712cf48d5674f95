using System.Buffers;

namespace FcHandler.Fc.Events;

/// <summary>
/// The checks Kestrel makes on an HTTP request's headers, made on an event's. Kestrel never hands the proxy a header
/// with CR, LF or NUL in it, but an event's headers are plain JSON strings: a value holding
/// <c>"\r\nContent-Length: 0\r\n\r\nDELETE /v1/... HTTP/1.1"</c> would reach an HTTP/1.1 upstream as a second request,
/// carrying the server key. So names must be RFC 9110 tokens and values visible ASCII, spaces and tabs, as Kestrel
/// requires by default (it refuses non-ASCII header bytes: https://github.com/dotnet/aspnetcore/issues/61189).
/// A refusal names the header, never its value.
/// </summary>
internal static class EventHeaders
{
    /// <summary>Longer names are refused: none is legitimate, and the name goes into the error's <c>param</c>.</summary>
    public const int MaxNameLength = 256;

    // RFC 9110 §5.6.2: token = 1*tchar.
    private static readonly SearchValues<char> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    // RFC 9110 §5.5: field-value = VCHAR, SP and HTAB (obs-text, non-ASCII, is refused like Kestrel does).
    private static readonly SearchValues<char> ValueChars = SearchValues.Create(
        "\t !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    /// <summary>True if every header has a token for a name and a value fit for an HTTP/1.1 header line.</summary>
    public static bool AreValid(IReadOnlyList<KeyValuePair<string, string>> headers, ref EventError? error)
    {
        foreach (var (name, value) in headers)
        {
            if (name.Length is 0 or > MaxNameLength || name.AsSpan().IndexOfAnyExcept(TokenChars) >= 0)
            {
                error = new EventError("headers",
                    "headers has a name that is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only, at most 256).");
                return false;
            }

            if (value.AsSpan().IndexOfAnyExcept(ValueChars) >= 0)
            {
                error = new EventError($"headers.{name}",
                    $"The value of the header {name} holds a character an HTTP header may not carry (CR, LF, NUL, another control character, or non-ASCII).");
                return false;
            }
        }

        return true;
    }

    /// <summary>True if <paramref name="text"/> holds a C0 control character or DEL, which no request target may.</summary>
    public static bool HasControlCharacter(string text)
        => text.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0 || text.Contains('\u007f', StringComparison.Ordinal);
}
