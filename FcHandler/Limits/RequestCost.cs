using System.Globalization;
using System.Text;
using FcHandler.Access;
using FcHandler.Errors;
using FcHandler.Usage;

namespace FcHandler.Limits;

/// <summary>
/// A bound on what a request can cost, in tokens, read from the buffered body without a tokenizer:
/// <list type="bullet">
/// <item>input: the body's size in bytes. A token is at least one byte of the text it stands for, and the JSON around
/// the text (keys, quotes, escapes) only adds bytes, so bytes bound the tokens of text, of audio, and of images sent
/// inline; what a request only refers to (an image URL, a file id, a previous response) is not in the body and not in
/// the bound (docs/limits.md);</item>
/// <item>output: the cap the client set (<c>max_completion_tokens</c> or <c>max_tokens</c> for chat,
/// <c>max_output_tokens</c> for Responses, <c>max_tokens</c> for legacy completions, whose default is 16), times the
/// answers asked for (<c>n</c>, <c>best_of</c>); without a cap, <c>LIMITS_DEFAULT_OUTPUT_TOKENS</c>, and where a budget
/// must hold, that cap is added to the request so the model cannot write past it.</item>
/// </list>
/// Only generation requests produce output; embeddings, moderations and transcriptions reserve their input bound; images
/// and speech reserve the default output per image or per speech, and are charged that when their answer has no usage.
/// Under a budget or a TPM limit (<c>meter</c>), a body this bound cannot be sure of is refused rather than guessed at:
/// an encoded body (its bytes on the wire bound nothing), a generation body that is not a JSON object the proxy can
/// read, and a body whose cost members OpenAI could read differently (<see cref="JsonTopLevelScan.Ambiguous"/>).
/// </summary>
internal static class RequestCost
{
    /// <summary>Legacy completions write 16 tokens when <c>max_tokens</c> is not set (https://platform.openai.com/docs/api-reference/completions/create#completions-create-max_tokens).</summary>
    public const long LegacyCompletionsDefault = 16;

    private const string EnginesPrefix = "/v1/engines/";

    /// <summary>The request's bound, and whether the proxy set its output cap.</summary>
    /// <param name="Estimate">Input bound plus output bound.</param>
    /// <param name="CapAdded">The member the proxy added to the body (such as <c>max_output_tokens</c>), or null.</param>
    /// <param name="RunsInBackground">A Responses request with <c>"background": true</c>: answered before it runs, so its usage never passes the proxy.</param>
    /// <param name="ReportsUsage">
    /// Charged its bound when it ends without usage: a text generation (chat, Responses, completions), whose answer
    /// reports usage, so one that does not may still have cost it; an image or speech request, whose answer reports
    /// usage for OpenAI's token-priced models (gpt-image-1, gpt-4o-mini-tts as a stream) and none for those priced per
    /// image or per character (DALL·E, tts-1), which the budget then counts at the bound rather than as free.
    /// </param>
    /// <param name="Refusal">Why the request cannot be bounded, when it cannot: answered instead of forwarded.</param>
    public readonly record struct Bound(long Estimate, string? CapAdded, bool RunsInBackground, bool ReportsUsage, ProxyError? Refusal = null)
    {
        /// <summary>The input bound (the body's size before anything was added to it).</summary>
        public long Input { get; init; }

        /// <summary>The output cap of one answer (the client's, or the one the proxy added).</summary>
        public long Cap { get; init; }

        /// <summary>The answers asked for (<c>n</c>, <c>best_of</c>), each up to <see cref="Cap"/>.</summary>
        public long Answers { get; init; } = 1;
    }

    private enum Kind
    {
        Other,
        Chat,
        Responses,
        Completions,
        ImageGenerations,
        Images,
        Speech,
    }

    /// <summary>
    /// Reads the bound; with <paramref name="meter"/>, refuses what it cannot bound; with <paramref name="enforceCap"/>,
    /// adds the default cap to a chat or Responses body that has none.
    /// </summary>
    public static async Task<Bound> ReadAsync(HttpRequest request, long defaultOutputTokens, bool meter, bool enforceCap, CancellationToken cancellationToken)
    {
        var input = Math.Max(0, request.ContentLength ?? 0);
        var kind = KindOf(request.Path.Value ?? "");
        if (meter && request.Headers.ContentEncoding.Any(coding => !"identity".Equals(coding?.Trim(), StringComparison.OrdinalIgnoreCase)))
        {
            return Refused(ProxyError.BodyNotMeterable("is compressed (Content-Encoding)"));
        }

        var scan = kind == Kind.Other ? null : await ModelReader.ReadTopLevelAsync(request, cancellationToken);
        if (meter && scan is null && kind is Kind.Chat or Kind.Responses or Kind.Completions or Kind.ImageGenerations)
        {
            return Refused(ProxyError.BodyNotMeterable("is not a JSON object the proxy can read"));
        }

        if (meter && scan?.Ambiguous is var (ambiguous, problem))
        {
            return Refused(ProxyError.AmbiguousBody(ambiguous, problem));
        }

        // Image edits and variations come as forms; their n is a form field.
        var images = kind == Kind.Images && scan is null ? await FormCount.ReadAsync(request, "n", cancellationToken) : null;
        if (meter && images?.Problem is { } formProblem)
        {
            return Refused(ProxyError.AmbiguousBody("n", formProblem));
        }

        if (meter && kind == Kind.Images && scan is null && images is null)
        {
            return Refused(ProxyError.BodyNotMeterable("is neither a JSON object nor a multipart form the proxy can read"));
        }

        var answers = Math.Max(1, Math.Max(scan?.N ?? images?.Count ?? 1, kind == Kind.Completions ? scan?.BestOf ?? 1 : 1));
        var (cap, member) = kind switch
        {
            Kind.Chat => (scan?.MaxCompletionTokens ?? scan?.MaxTokens, "max_completion_tokens"),
            Kind.Responses => (scan?.MaxOutputTokens, "max_output_tokens"),
            Kind.Completions => (scan?.MaxTokens ?? LegacyCompletionsDefault, null),
            Kind.ImageGenerations or Kind.Images or Kind.Speech => (null, null),
            _ => (0L, null),
        };

        string? added = null;
        if (cap is null)
        {
            cap = defaultOutputTokens;
            if (enforceCap && member is not null && scan is not null
                && await JsonBodyInsertion.InsertAsync(request, Encoding.UTF8.GetBytes($"\"{member}\":{defaultOutputTokens.ToString(CultureInfo.InvariantCulture)},"), cancellationToken))
            {
                added = member;
            }
        }

        var output = Saturating(cap.Value, answers);
        return new Bound(
            Math.Min(LimitSet.MaxCount, input + output), added, kind == Kind.Responses && scan?.Background == true, kind != Kind.Other)
        {
            Input = input,
            Cap = cap.Value,
            Answers = answers,
        };
    }

    private static Bound Refused(ProxyError refusal) => new(0, null, false, false, refusal);

    private static long Saturating(long cap, long answers) => cap > LimitSet.MaxCount / answers ? LimitSet.MaxCount : cap * answers;

    private static Kind KindOf(string path)
    {
        if (path.StartsWith(EnginesPrefix, StringComparison.Ordinal))
        {
            return path.EndsWith("/chat/completions", StringComparison.Ordinal) ? Kind.Chat
                : path.EndsWith("/completions", StringComparison.Ordinal) ? Kind.Completions
                : Kind.Other;
        }

        return path switch
        {
            "/v1/chat/completions" => Kind.Chat,
            "/v1/responses" => Kind.Responses,
            "/v1/completions" => Kind.Completions,
            "/v1/images/generations" => Kind.ImageGenerations,
            "/v1/images/edits" or "/v1/images/variations" => Kind.Images, // multipart forms, or JSON
            "/v1/audio/speech" => Kind.Speech,
            _ => Kind.Other,
        };
    }
}
