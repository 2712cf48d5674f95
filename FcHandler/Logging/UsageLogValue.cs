using System.Globalization;
using System.Text;
using System.Text.Json;
using FcHandler.Usage;

namespace FcHandler.Logging;

/// <summary>
/// The usage of an access line: <c>input:12,output:340,cached:0,reasoning:0,total:352</c> in text, an object of the
/// same counts (<c>input_tokens</c>, <c>output_tokens</c>, <c>cached_tokens</c>, <c>reasoning_tokens</c>,
/// <c>total_tokens</c>, <c>seconds</c>) in JSON; "-" or nothing when OpenAI reported none.
/// </summary>
internal readonly struct UsageLogValue(TokenUsage? usage) : IJsonLogValue
{
    public override string ToString()
    {
        if (usage is not { } value)
        {
            return "-";
        }

        var text = new StringBuilder(64);
        Append(text, "input", value.InputTokens);
        Append(text, "output", value.OutputTokens);
        Append(text, "cached", value.CachedTokens);
        Append(text, "reasoning", value.ReasoningTokens);
        Append(text, "total", value.TotalTokens);
        if (value.Seconds is { } seconds)
        {
            text.Append(text.Length > 0 ? "," : "").Append("seconds:").Append(seconds.ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    public void WriteJson(Utf8JsonWriter writer, JsonEncodedText name)
    {
        if (usage is not { } value)
        {
            return;
        }

        writer.WriteStartObject(name);
        Write(writer, "input_tokens"u8, value.InputTokens);
        Write(writer, "output_tokens"u8, value.OutputTokens);
        Write(writer, "cached_tokens"u8, value.CachedTokens);
        Write(writer, "reasoning_tokens"u8, value.ReasoningTokens);
        Write(writer, "total_tokens"u8, value.TotalTokens);
        if (value.Seconds is { } seconds)
        {
            writer.WriteNumber("seconds"u8, seconds);
        }

        writer.WriteEndObject();
    }

    private static void Append(StringBuilder text, string name, long? count)
    {
        if (count is { } value)
        {
            text.Append(text.Length > 0 ? "," : "").Append(name).Append(':').Append(value.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void Write(Utf8JsonWriter writer, ReadOnlySpan<byte> name, long? count)
    {
        if (count is { } value)
        {
            writer.WriteNumber(name, value);
        }
    }
}
