namespace FcHandler.Limits;

/// <summary>What every store shares: the lease timing, the rate window, and how budget periods are named.</summary>
internal static class LimitStores
{
    /// <summary>
    /// How long a lease lives unless renewed: an instance that dies (killed for memory, or by FC's timeout) frees its
    /// subjects' concurrency slots within this, not never.
    /// </summary>
    public static readonly TimeSpan LeaseTtl = TimeSpan.FromMinutes(3);

    /// <summary>How often an open request renews its lease: three chances before it lapses.</summary>
    public static readonly TimeSpan RenewEvery = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a request refused because reservations in flight hold its budget's room is told to wait
    /// (<see cref="Verdict.BudgetHeld"/>). When they settle cannot be known (a short chat ends in a second, a long
    /// stream in minutes); a second is the concurrency refusal's wait too, and lets the SDKs' few retries find room as
    /// soon as one of the requests in flight settles, without a retry storm. The scripts use the same number.
    /// </summary>
    public const long HeldRetryMs = 1000;

    /// <summary>
    /// Seconds a rate window spans. It is counted in whole seconds, the current one included, so it looks back between
    /// 60 and 61 seconds: a count may include a request up to a second older than a minute, never miss one.
    /// </summary>
    public const int WindowSeconds = 60;

    /// <summary>
    /// The current budget period of <paramref name="period"/> at <paramref name="nowSeconds"/> (Unix): its id, and when
    /// it ends (Unix seconds, 0 for a total). Days and months start at midnight at <paramref name="utcOffsetSeconds"/>.
    /// The ids are the Lua script's own: <c>d</c> and the day number, <c>m</c> and year * 12 + month - 1, <c>total</c>.
    /// </summary>
    public static (string Id, long EndsAt) Period(BudgetPeriod period, long nowSeconds, int utcOffsetSeconds)
    {
        if (period == BudgetPeriod.Total)
        {
            return ("total", 0);
        }

        var days = Math.DivRem(nowSeconds + utcOffsetSeconds, 86400, out var rest) - (rest < 0 ? 1 : 0);
        if (period == BudgetPeriod.Day)
        {
            return (FormattableString.Invariant($"d{days}"), ((days + 1) * 86400) - utcOffsetSeconds);
        }

        var date = DateOnly.FromDayNumber((int)(days + 719162)); // day 0 of the Unix epoch is day 719162 of DateOnly's
        var next = date.AddMonths(1);
        var nextStart = new DateOnly(next.Year, next.Month, 1).DayNumber - 719162L;
        return (FormattableString.Invariant($"m{(date.Year * 12) + date.Month - 1}"), (nextStart * 86400) - utcOffsetSeconds);
    }

    /// <summary>When a period that ends at <paramref name="endsAt"/> (Unix seconds, 0 for none) ends, for a client.</summary>
    public static DateTimeOffset? EndTime(long endsAt) => endsAt > 0 ? DateTimeOffset.FromUnixTimeSeconds(endsAt) : null;
}
