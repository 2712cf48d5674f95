namespace FcHandler.Limits;

/// <summary>
/// The store's decision and what the client is told about its windows: of each kind, the tighter of the subject's
/// rule and the model's (the one with less remaining).
/// </summary>
internal sealed record AdmissionResult(
    Verdict Verdict,
    long RetryAfterMs,
    RateWindow? Requests,
    RateWindow? Tokens,
    BudgetState? Budget,
    long WindowSecond,
    string[] Periods)
{
    public bool Admitted => Verdict == Verdict.Admitted;

    /// <summary>The rule whose limit refused the request (the subject's, or a model's); null when admitted.</summary>
    public LimitRule? RefusedBy { get; init; }
}

/// <summary>A 60-second window as OpenAI's <c>x-ratelimit-*</c> headers describe one: its limit, what is left, and when it is whole again.</summary>
internal readonly record struct RateWindow(long Limit, long Remaining, long ResetMs);

/// <summary>A budget: its limit, what is left in the current period, and when the period ends (null for a total).</summary>
internal readonly record struct BudgetState(long Limit, long Left, DateTimeOffset? ResetsAt)
{
    /// <summary>
    /// Of what is not left, how much reservations in flight hold (0 where not known): it comes back as they settle, less
    /// what they spent. A reservation whose lease lapsed no longer counts here; it stays spent.
    /// </summary>
    public long InFlight { get; init; }
}
