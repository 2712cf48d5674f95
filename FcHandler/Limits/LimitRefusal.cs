using System.Globalization;
using FcHandler.Errors;

namespace FcHandler.Limits;

/// <summary>
/// The answer to a request a limit refused, in the terms clients already understand: a rate or concurrency limit is a
/// 429 <c>rate_limit_exceeded</c> with <c>retry-after-ms</c> and <c>retry-after</c> (the Python and Node SDKs wait that
/// long and retry by themselves) and the <c>x-ratelimit-*</c> windows; a budget used up is a 429
/// <c>insufficient_quota</c> with <c>x-should-retry: false</c>, which those SDKs obey over everything else, so they give
/// up at once instead of retrying a refusal that no retry can change. That final answer is given only when it is true:
/// a budget whose room is held by reservations of requests still in flight (which return what they do not spend) is a
/// 429 <c>rate_limit_exceeded</c> of type <c>tokens</c> with a short <c>retry-after-ms</c>, so the client waits and
/// retries rather than telling its user the quota is gone. A request too large ever to fit a TPM limit is told so, also
/// without a retry.
/// </summary>
internal static class LimitRefusal
{
    public static ProxyError For(AdmissionResult result, string subject, long estimate)
    {
        var scope = result.RefusedBy?.Model is { } model ? $" for {model} models" : "";
        var headers = new List<KeyValuePair<string, string>>();
        RateLimitHeaders.AddTo(headers, result.Requests, result.Tokens);
        var error = result.Verdict switch
        {
            Verdict.RequestsExceeded => ProxyError.RequestsRateLimited(
                $"Rate limit reached on this proxy for {subject}{scope}: requests per minute (RPM), limit {Count(result.RefusedBy?.RequestsPerMinute)}. " +
                $"Please try again in {Seconds(result.RetryAfterMs)}."),
            Verdict.TokensExceeded => ProxyError.TokensRateLimited(
                $"Rate limit reached on this proxy for {subject}{scope}: tokens per minute (TPM), limit {Count(result.RefusedBy?.TokensPerMinute)}; " +
                $"this request reserves {Count(estimate)} (its input and its maximum output). Please try again in {Seconds(result.RetryAfterMs)}."),
            Verdict.TokensNeverFit => ProxyError.TokensRateLimited(
                $"This request reserves {Count(estimate)} tokens (its input and its maximum output), more than this proxy's limit of " +
                $"{Count(result.RefusedBy?.TokensPerMinute)} tokens per minute (TPM) for {subject}{scope}, so it can never be admitted as it is. " +
                "Set a lower max_tokens, max_completion_tokens or max_output_tokens, or send less input."),
            Verdict.ConcurrencyExceeded => ProxyError.RequestsRateLimited(
                $"Concurrency limit reached on this proxy for {subject}{scope}: {Count(result.RefusedBy?.Concurrency)} requests open at once. " +
                "Please try again when one of them has finished."),
            Verdict.BudgetHeld => ProxyError.TokensRateLimited(HeldMessage(result, subject, scope, estimate)),
            _ => ProxyError.BudgetExhausted(BudgetMessage(result, subject, scope, estimate)),
        };

        if (result.Verdict is Verdict.BudgetExhausted or Verdict.TokensNeverFit)
        {
            headers.Add(new("x-should-retry", "false"));
        }
        else
        {
            headers.Add(new("retry-after-ms", result.RetryAfterMs.ToString(CultureInfo.InvariantCulture)));
            headers.Add(new("retry-after", Math.Max(1, (result.RetryAfterMs + 999) / 1000).ToString(CultureInfo.InvariantCulture)));
        }

        return error with { Headers = headers };
    }

    private static string HeldMessage(AdmissionResult result, string subject, string scope, long estimate)
    {
        var budget = result.Budget;
        return $"The room left in {subject}'s {Period(result)}token budget of {Count(budget?.Limit)} on this proxy{scope} is held by requests in flight " +
            $"({Count(budget?.InFlight)} tokens reserved), and this request reserves {Count(estimate)} (its input and its maximum output). " +
            $"What they do not use comes back as they finish. Please try again in {Seconds(result.RetryAfterMs)}.";
    }

    private static string BudgetMessage(AdmissionResult result, string subject, string scope, long estimate)
    {
        var budget = result.Budget;
        var period = Period(result);
        var resets = budget?.ResetsAt is { } at ? $" It starts again at {at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}." : "";
        var left = Math.Max(0, budget?.Left ?? 0);
        return left > 0 && estimate > left
            ? $"This request reserves {Count(estimate)} tokens (its input and its maximum output), but {subject} has {Count(left)} left of its " +
              $"{period}token budget of {Count(budget?.Limit)} on this proxy{scope}. Set a lower max_tokens, max_completion_tokens or max_output_tokens.{resets}"
            : $"You exceeded your current quota: {subject} has used its {period}token budget of {Count(budget?.Limit)} on this proxy{scope}.{resets}";
    }

    private static string Period(AdmissionResult result) => result.RefusedBy?.BudgetPeriod switch
    {
        BudgetPeriod.Day => "daily ",
        BudgetPeriod.Month => "monthly ",
        _ => "",
    };

    private static string Count(long? value) => value?.ToString("N0", CultureInfo.InvariantCulture) ?? "?";

    private static string Seconds(long milliseconds) => (milliseconds / 1000.0).ToString("0.###", CultureInfo.InvariantCulture) + "s";
}
