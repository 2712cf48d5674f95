using System.Text.Json;

namespace FcHandler.Usage;

/// <summary>
/// Reads one <c>usage</c> object, whichever API wrote it:
/// chat and embeddings (<c>prompt_tokens</c>, <c>completion_tokens</c>, <c>prompt_tokens_details.cached_tokens</c>,
/// <c>completion_tokens_details.reasoning_tokens</c>), the Responses API (<c>input_tokens</c>, <c>output_tokens</c>,
/// <c>input_tokens_details</c>, <c>output_tokens_details</c>), Realtime and audio transcriptions
/// (<c>input_token_details</c>, <c>output_token_details</c>), and whisper-1's <c>{"type":"duration","seconds":2}</c>.
/// https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
/// </summary>
internal static class UsageParser
{
    /// <summary>The counts in <paramref name="usageObject"/> (a whole JSON object), or null if it holds none.</summary>
    public static TokenUsage? Parse(ReadOnlySpan<byte> usageObject)
    {
        long? input = null, output = null, cached = null, reasoning = null, total = null;
        double? seconds = null;
        try
        {
            var reader = new Utf8JsonReader(usageObject);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("prompt_tokens"u8) || reader.ValueTextEquals("input_tokens"u8))
                {
                    input = Count(ref reader);
                }
                else if (reader.ValueTextEquals("completion_tokens"u8) || reader.ValueTextEquals("output_tokens"u8))
                {
                    output = Count(ref reader);
                }
                else if (reader.ValueTextEquals("total_tokens"u8))
                {
                    total = Count(ref reader);
                }
                else if (reader.ValueTextEquals("seconds"u8))
                {
                    seconds = reader.Read() && reader.TokenType == JsonTokenType.Number ? reader.GetDouble() : null;
                }
                else if (reader.ValueTextEquals("prompt_tokens_details"u8) || reader.ValueTextEquals("input_tokens_details"u8)
                    || reader.ValueTextEquals("input_token_details"u8))
                {
                    cached = Detail(ref reader, "cached_tokens"u8) ?? cached;
                }
                else if (reader.ValueTextEquals("completion_tokens_details"u8) || reader.ValueTextEquals("output_tokens_details"u8)
                    || reader.ValueTextEquals("output_token_details"u8))
                {
                    reasoning = Detail(ref reader, "reasoning_tokens"u8) ?? reasoning;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }

        var usage = new TokenUsage(input, output, cached, reasoning, total, seconds);
        return usage.IsEmpty ? null : usage;
    }

    // A count is a non-negative integer; anything else (a schema object that happens to be called "usage") is no count.
    private static long? Count(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var count) && count >= 0)
        {
            return count;
        }

        reader.Skip();
        return null;
    }

    private static long? Detail(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        long? found = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(name))
            {
                found = Count(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return found;
    }
}
