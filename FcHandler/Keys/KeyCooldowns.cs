namespace FcHandler.Keys;

/// <summary>
/// How long a key rests after each kind of answer. Fixed here, documented in docs/key-pool.md. Every cooldown ends by
/// itself: one stray answer never takes a key out for good, and a key that keeps failing is tried again (by one
/// request) at least every <see cref="MaxRefused"/>.
/// </summary>
internal static class KeyCooldowns
{
    /// <summary>A 429 without <c>retry-after</c> or <c>x-ratelimit-reset-*</c>.</summary>
    public static readonly TimeSpan RateLimitDefault = TimeSpan.FromSeconds(5);

    /// <summary>The shortest and longest rest after a 429, whatever its headers say.</summary>
    public static readonly TimeSpan RateLimitMin = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan RateLimitMax = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Out of quota, a 401, an account's 403: 5 minutes, doubling each time the key's probe is refused again, up to
    /// <see cref="MaxRefused"/>. Credit bought or a key restored is noticed within that.
    /// </summary>
    public static readonly TimeSpan Refused = TimeSpan.FromMinutes(5);

    public static readonly TimeSpan MaxRefused = TimeSpan.FromMinutes(30);

    /// <summary>A connection or TLS failure, a 500, 502 or 503: 5 seconds, doubling while it repeats, up to <see cref="MaxFailing"/>.</summary>
    public static readonly TimeSpan Failing = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan MaxFailing = TimeSpan.FromMinutes(1);

    /// <summary>The cooldown of the <paramref name="strikes"/>-th refusal or failure in a row (1 for the first).</summary>
    public static TimeSpan Escalated(TimeSpan first, TimeSpan max, int strikes)
    {
        var doubled = first * Math.Pow(2, Math.Clamp(strikes - 1, 0, 16));
        return doubled < max ? doubled : max;
    }
}
