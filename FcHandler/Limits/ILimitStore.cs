namespace FcHandler.Limits;

/// <summary>
/// Where a subject's counters live: in this process (<see cref="MemoryLimitStore"/>, one instance) or shared by every
/// instance (<see cref="RedisLimitStore"/>). Each decision is one atomic step: no two requests can both take the last
/// of a limit. Implementations throw when they cannot answer; <see cref="GuardedLimitStore"/> bounds the wait and
/// decides what a failure means.
/// </summary>
internal interface ILimitStore
{
    /// <summary>A name for logs: <c>memory</c>, or the store's address without its password.</summary>
    string Name { get; }

    /// <summary>Admits the request or says which limit it meets; when admitted, its reservation and lease are taken.</summary>
    Task<AdmissionResult> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Ends a request: its lease is released and its reservation corrected to <paramref name="actualTokens"/>. Null keeps
    /// the whole reservation as spent (a stream cut off before it reported usage).
    /// </summary>
    Task SettleAsync(Lease lease, long? actualTokens, CancellationToken cancellationToken);

    /// <summary>Charges tokens spent without a reservation (a Realtime response); returns the tightest budget left, if any.</summary>
    Task<BudgetState?> ChargeAsync(string subject, LimitRule[] rules, long tokens, CancellationToken cancellationToken);

    /// <summary>Keeps a long request's lease alive (leases of an instance that died lapse after <see cref="LimitStores.LeaseTtl"/>).</summary>
    Task RenewAsync(Lease lease, CancellationToken cancellationToken);

    /// <summary>The state of each rule, read without changing anything.</summary>
    Task<RuleReport[]> ShowAsync(string subject, IReadOnlyList<LimitRule> rules, CancellationToken cancellationToken);

    /// <summary>The revoked ids, unless their version is still <paramref name="knownVersion"/>.</summary>
    Task<Revocations> ReadRevocationsAsync(long knownVersion, CancellationToken cancellationToken);

    /// <summary>Revokes a signed token's id; false if it already was.</summary>
    Task<bool> RevokeAsync(string tokenId, CancellationToken cancellationToken);
}
