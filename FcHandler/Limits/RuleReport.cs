namespace FcHandler.Limits;

/// <summary>What <c>limits show</c> prints for one rule: its windows' use, the open requests, and the budget's period.</summary>
internal sealed record RuleReport(
    LimitRule Rule,
    long RequestsLastMinute,
    long TokensLastMinute,
    long Open,
    long BudgetUsed,
    DateTimeOffset? BudgetResetsAt)
{
    /// <summary>Of <see cref="BudgetUsed"/>, what reservations in flight hold (leases that lapsed no longer count).</summary>
    public long BudgetInFlight { get; init; }
}
