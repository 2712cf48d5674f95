namespace FcHandler.Usage;

/// <summary>
/// The usage OpenAI reported for one answer, named as the Responses API names it: chat's <c>prompt_tokens</c> and
/// <c>completion_tokens</c> are the input and output tokens here. A null count was not reported (embeddings have no
/// output; a whisper-1 transcription reports <see cref="Seconds"/> of audio instead of tokens).
/// </summary>
internal readonly record struct TokenUsage(
    long? InputTokens,
    long? OutputTokens,
    long? CachedTokens,
    long? ReasoningTokens,
    long? TotalTokens,
    double? Seconds)
{
    /// <summary>Both counts added, a count reported by either counting (a Realtime session's responses, summed).</summary>
    public TokenUsage Plus(TokenUsage other) => new(
        Add(InputTokens, other.InputTokens),
        Add(OutputTokens, other.OutputTokens),
        Add(CachedTokens, other.CachedTokens),
        Add(ReasoningTokens, other.ReasoningTokens),
        Add(TotalTokens, other.TotalTokens),
        Seconds is null && other.Seconds is null ? null : (Seconds ?? 0) + (other.Seconds ?? 0));

    private static long? Add(long? a, long? b) => a is null && b is null ? null : (a ?? 0) + (b ?? 0);

    /// <summary>Nothing recognisable was reported.</summary>
    public bool IsEmpty => InputTokens is null && OutputTokens is null && CachedTokens is null
        && ReasoningTokens is null && TotalTokens is null && Seconds is null;
}
