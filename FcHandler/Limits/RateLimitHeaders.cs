using System.Globalization;
using System.Text;

namespace FcHandler.Limits;

/// <summary>
/// OpenAI's rate-limit headers (https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers), which
/// clients already read: <c>x-ratelimit-limit-requests</c>, <c>-remaining-requests</c>, <c>-reset-requests</c> and the
/// same for tokens, the reset as a duration such as <c>1s</c>, <c>6m0s</c> or <c>120ms</c>. For a subject with limits,
/// each kind shows the tighter of the proxy's window and OpenAI's (the one with less remaining): both must be respected,
/// and a client that paces itself by these headers then meets neither. A kind the proxy does not limit passes as
/// OpenAI sent it.
/// </summary>
internal static class RateLimitHeaders
{
    public const string LimitRequests = "x-ratelimit-limit-requests";
    public const string RemainingRequests = "x-ratelimit-remaining-requests";
    public const string ResetRequests = "x-ratelimit-reset-requests";
    public const string LimitTokens = "x-ratelimit-limit-tokens";
    public const string RemainingTokens = "x-ratelimit-remaining-tokens";
    public const string ResetTokens = "x-ratelimit-reset-tokens";

    /// <summary>Sets the proxy's windows where they are tighter than the upstream's (or the upstream sent none).</summary>
    public static void Merge(IHeaderDictionary headers, RateWindow? requests, RateWindow? tokens)
    {
        MergeKind(headers, requests, LimitRequests, RemainingRequests, ResetRequests);
        MergeKind(headers, tokens, LimitTokens, RemainingTokens, ResetTokens);
    }

    /// <summary>The headers of both windows, for a refusal.</summary>
    public static void AddTo(List<KeyValuePair<string, string>> headers, RateWindow? requests, RateWindow? tokens)
    {
        AddKind(headers, requests, LimitRequests, RemainingRequests, ResetRequests);
        AddKind(headers, tokens, LimitTokens, RemainingTokens, ResetTokens);
    }

    private static void MergeKind(IHeaderDictionary headers, RateWindow? window, string limit, string remaining, string reset)
    {
        if (window is not { } ours)
        {
            return;
        }

        if (headers.TryGetValue(remaining, out var theirs) && long.TryParse(theirs, NumberStyles.None, CultureInfo.InvariantCulture, out var left)
            && left <= ours.Remaining)
        {
            return; // OpenAI's is as tight or tighter: it stands as sent
        }

        headers[limit] = Count(ours.Limit);
        headers[remaining] = Count(ours.Remaining);
        headers[reset] = Duration(ours.ResetMs);
    }

    private static void AddKind(List<KeyValuePair<string, string>> headers, RateWindow? window, string limit, string remaining, string reset)
    {
        if (window is { } ours)
        {
            headers.Add(new(limit, Count(ours.Limit)));
            headers.Add(new(remaining, Count(ours.Remaining)));
            headers.Add(new(reset, Duration(ours.ResetMs)));
        }
    }

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Milliseconds as OpenAI writes a reset (Go's duration format): <c>0s</c>, <c>120ms</c>, <c>8.64s</c>, <c>6m0s</c>, <c>1h2m3.5s</c>.</summary>
    public static string Duration(long milliseconds)
    {
        if (milliseconds <= 0)
        {
            return "0s";
        }

        if (milliseconds < 1000)
        {
            return milliseconds.ToString(CultureInfo.InvariantCulture) + "ms";
        }

        var text = new StringBuilder();
        var hours = milliseconds / 3_600_000;
        var minutes = milliseconds / 60_000 % 60;
        if (hours > 0)
        {
            text.Append(hours).Append('h');
        }

        if (hours > 0 || minutes > 0)
        {
            text.Append(minutes).Append('m');
        }

        var seconds = milliseconds % 60_000 / 1000m;
        return text.Append(seconds.ToString("0.###", CultureInfo.InvariantCulture)).Append('s').ToString();
    }
}
