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
    /// <summary>
    /// Reads the counts in <paramref name="usageObject"/> (a whole JSON object): <paramref name="usage"/> is null if it
    /// holds none. False when it is not one clear count: not JSON, or a count named twice (OpenAI writes each once; which
    /// of two a client's parser believes is its parser's choice, so neither is taken).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> usageObject, out TokenUsage? usage)
    {
        usage = null;
        long? input = null, output = null, cached = null, reasoning = null, total = null;
        double? seconds = null;
        var named = 0;
        try
        {
            var reader = new Utf8JsonReader(usageObject);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var count = CountNamed(ref reader);
                if (count != 0 && (named & count) != 0)
                {
                    return false;
                }

                named |= count;
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
            return false;
        }

        var read = new TokenUsage(input, output, cached, reasoning, total, seconds);
        usage = read.IsEmpty ? null : read;
        return true;
    }

    // A bit for each name of a count a budget is charged from (the same name twice is ambiguous), 0 for other names.
    private static int CountNamed(ref Utf8JsonReader reader)
        => reader.ValueTextEquals("prompt_tokens"u8) ? 1
            : reader.ValueTextEquals("input_tokens"u8) ? 2
            : reader.ValueTextEquals("completion_tokens"u8) ? 4
            : reader.ValueTextEquals("output_tokens"u8) ? 8
            : reader.ValueTextEquals("total_tokens"u8) ? 16
            : 0;

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
