namespace FcHandler.Limits;

/// <summary>
/// An admitted request's hold on its subject's counters, until it is settled: its reservation (in the budget period
/// and the window second it was made in) and its place among the open requests.
/// </summary>
internal sealed record Lease(AdmissionRequest Request, long WindowSecond, string[] Periods, ILimitStore Store)
{
    public string Subject => Request.Subject;

    public LimitRule[] Rules => Request.Rules;

    public long Estimate => Request.Estimate;

    /// <summary>
    /// Whether the lease holds something in the store that lapses unless renewed while the request runs: a concurrency
    /// slot, or a budget reservation that counts as in flight.
    /// </summary>
    public bool NeedsRenewal => Rules.Any(rule => rule.Concurrency is not null) || Enumerable.Range(0, Rules.Length).Any(i => ReservedIn(i) is not null);

    /// <summary>The budget period rule <paramref name="index"/> reserved a non-zero estimate in, or null.</summary>
    public string? ReservedIn(int index)
        => Estimate > 0 && Rules[index].Budget is not null && index < Periods.Length && Periods[index].Length > 0 ? Periods[index] : null;
}
