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

    public bool HoldsConcurrency => Request.Rules.Any(rule => rule.Concurrency is not null);
}
