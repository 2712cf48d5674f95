using System.Globalization;
using System.Text;
using FcHandler.Usage;

namespace FcHandler.Limits;

/// <summary>
/// Near the end of a budget, a chat or Responses request that set no cap of its own is not refused for the default cap
/// the proxy gave it: it gets a cap that fits what is left (what is left, less its input bound, shared among its
/// answers), so a budget can be used to its last tokens, and its answer ends with <c>finish_reason: length</c> (or an
/// incomplete Responses answer) where the cap cut it. A cap the client set is never lowered: a request that asked for
/// more than is left is refused as before. <c>LIMITS_FIT_CAP=off</c> turns this off (docs/limits.md).
/// </summary>
internal static class FittedCap
{
    /// <summary>
    /// The smallest cap worth fitting: OpenAI refuses a <c>max_output_tokens</c> below 16 ("Invalid 'max_output_tokens':
    /// integer below minimum value. Expected a value >= 16", https://github.com/vectorize-io/hindsight/issues/58), and
    /// fewer tokens than that are rarely an answer. Below it the request is refused as it was.
    /// </summary>
    public const long Minimum = 16;

    /// <summary>
    /// The cap that fits <paramref name="left"/> tokens for a request of this bound, or null when the proxy did not add
    /// the request's cap or less than <see cref="Minimum"/> per answer fits.
    /// </summary>
    public static long? Fitting(RequestCost.Bound bound, long left)
    {
        if (bound.CapAdded is null || bound.Answers < 1)
        {
            return null;
        }

        var cap = Math.Min(bound.Cap, (left - bound.Input) / bound.Answers);
        return cap >= Minimum ? cap : null;
    }

    /// <summary>
    /// Replaces the cap the proxy added to the body (its first member, <c>"member":default,</c>) by <paramref name="cap"/>,
    /// without copying the body. Returns the request's new bound, or null, and the body unchanged, if the body does not
    /// start with the member the proxy added.
    /// </summary>
    public static async Task<RequestCost.Bound?> ApplyAsync(HttpRequest request, RequestCost.Bound bound, long cap, CancellationToken cancellationToken)
    {
        var added = Encoding.UTF8.GetBytes(Member(bound.CapAdded!, bound.Cap));
        var start = new byte[Math.Min(request.ContentLength ?? 0, 64 + added.Length)];
        request.Body.Position = 0;
        var read = await request.Body.ReadAtLeastAsync(start, start.Length, throwOnEndOfStream: false, cancellationToken);
        request.Body.Position = 0;
        var brace = start.AsSpan(0, read).IndexOfAnyExcept(" \t\r\n"u8);
        if (brace < 0 || start[brace] != (byte)'{' || !start.AsSpan(0, read)[(brace + 1)..].StartsWith(added))
        {
            return null;
        }

        // The body becomes: up to its brace, the fitted member, and the rest after the member the proxy had added.
        var fitted = Encoding.UTF8.GetBytes(Member(bound.CapAdded!, cap));
        var prefix = new byte[brace + 1 + fitted.Length];
        start.AsSpan(0, brace + 1).CopyTo(prefix);
        fitted.CopyTo(prefix.AsSpan(brace + 1));
        request.Body.Position = brace + 1 + added.Length;
        request.Body = new PrefixedReadStream(prefix, request.Body);
        request.ContentLength += fitted.Length - added.Length;
        return bound with { Estimate = bound.Input + (cap * bound.Answers), Cap = cap };
    }

    private static string Member(string name, long cap) => string.Create(CultureInfo.InvariantCulture, $"\"{name}\":{cap},");
}
