using System.Globalization;
using System.Text;
using FcHandler.Access;
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
/// Only generation requests produce output; embeddings, moderations and audio are charged their input bound.
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
    /// <param name="ReportsUsage">A text generation (chat, Responses, completions): its answer reports usage, and one that does not may still have cost it.</param>
    public readonly record struct Bound(long Estimate, string? CapAdded, bool RunsInBackground, bool ReportsUsage)
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
        Images,
    }

    /// <summary>Reads the bound; with <paramref name="enforceCap"/>, adds the default cap to a chat or Responses body that has none.</summary>
    public static async Task<Bound> ReadAsync(HttpRequest request, long defaultOutputTokens, bool enforceCap, CancellationToken cancellationToken)
    {
        var input = Math.Max(0, request.ContentLength ?? 0);
        var kind = KindOf(request.Path.Value ?? "");
        var scan = kind == Kind.Other ? null : await ModelReader.ReadTopLevelAsync(request, cancellationToken);
        var answers = Math.Max(1, Math.Max(scan?.N ?? 1, kind == Kind.Completions ? scan?.BestOf ?? 1 : 1));
        var (cap, member) = kind switch
        {
            Kind.Chat => (scan?.MaxCompletionTokens ?? scan?.MaxTokens, "max_completion_tokens"),
            Kind.Responses => (scan?.MaxOutputTokens, "max_output_tokens"),
            Kind.Completions => (scan?.MaxTokens ?? LegacyCompletionsDefault, null),
            Kind.Images => (null, null),
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
            Math.Min(LimitSet.MaxCount, input + output), added, kind == Kind.Responses && scan?.Background == true, kind is Kind.Chat or Kind.Responses or Kind.Completions)
        {
            Input = input,
            Cap = cap.Value,
            Answers = answers,
        };
    }

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
            "/v1/images/generations" or "/v1/images/edits" or "/v1/images/variations" => Kind.Images,
            _ => Kind.Other,
        };
    }
}
