namespace FcHandler.Limits;

/// <summary>What one request asks of the store: to be admitted under <paramref name="Rules"/>, reserving <paramref name="Estimate"/> tokens.</summary>
/// <param name="Subject">Whose counters: a token's subject, or <c>key-...</c> for a client's own key.</param>
/// <param name="Rules">The subject's rule, and the rule of the model named (<see cref="LimitSet.For"/>).</param>
/// <param name="Estimate">Tokens the request can cost at most: counted against <c>tpm</c>, and reserved from the budget.</param>
/// <param name="ChecksBudget">Whether the budget applies: requests that can spend (a POST, a WebSocket), not reads.</param>
/// <param name="LeaseId">Names the request among the subject's open ones, for <c>concurrency</c>.</param>
internal sealed record AdmissionRequest(string Subject, LimitRule[] Rules, long Estimate, bool ChecksBudget, string LeaseId);
