using System.Buffers;
using System.Text.Json;

namespace FcHandler.Usage;

/// <summary>
/// Keeps the start of an upstream error body (OpenAI's are a few hundred bytes) to read its <c>error.code</c>, or
/// <c>error.type</c> when the code is null, once the body is complete: <c>invalid_api_key</c>,
/// <c>insufficient_quota</c>, <c>rate_limit_exceeded</c>, <c>unsupported_country_region_territory</c>...
/// Holds at most <see cref="MaxBytes"/>; the body passes to the client untouched.
/// </summary>
internal sealed class ErrorBodyCapture
{
    /// <summary>OpenAI's error bodies are well under 1 KB; what does not fit is not read.</summary>
    public const int MaxBytes = 4096;

    private byte[]? _buffer;
    private int _length;

    public void Observe(ReadOnlySpan<byte> data)
    {
        var room = MaxBytes - _length;
        if (room <= 0 || data.IsEmpty)
        {
            return;
        }

        _buffer ??= ArrayPool<byte>.Shared.Rent(MaxBytes);
        var part = data[..Math.Min(room, data.Length)];
        part.CopyTo(_buffer.AsSpan(_length));
        _length += part.Length;
    }

    /// <summary>The error's code (or type), or null if the body is not OpenAI's error shape; releases the buffer.</summary>
    public string? Complete()
    {
        if (_buffer is null)
        {
            return null;
        }

        var code = ReadCode(_buffer.AsSpan(0, _length));
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
        _length = 0;
        return code;
    }

    /// <summary><c>error.code</c>, else <c>error.type</c>, of an OpenAI error body; null for anything else.</summary>
    public static string? ReadCode(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body, isFinalBlock: false, default);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("error"u8))
                {
                    if (!reader.TrySkip())
                    {
                        return null;
                    }

                    continue;
                }

                return reader.Read() && reader.TokenType == JsonTokenType.StartObject ? ReadErrorObject(ref reader) : null;
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }

    private static string? ReadErrorObject(ref Utf8JsonReader reader)
    {
        string? code = null, type = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isCode = reader.ValueTextEquals("code"u8);
            var isType = reader.ValueTextEquals("type"u8);
            if (!reader.Read())
            {
                break;
            }

            if (reader.TokenType == JsonTokenType.String && isCode)
            {
                code = reader.GetString();
            }
            else if (reader.TokenType == JsonTokenType.String && isType)
            {
                type = reader.GetString();
            }
            else if (!reader.TrySkip())
            {
                break;
            }
        }

        return code is { Length: > 0 } ? code : type is { Length: > 0 } ? type : null;
    }
}
