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
    /// <summary>Nothing recognisable was reported.</summary>
    public bool IsEmpty => InputTokens is null && OutputTokens is null && CachedTokens is null
        && ReasoningTokens is null && TotalTokens is null && Seconds is null;
}
