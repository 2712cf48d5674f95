namespace FcHandler.Limits;

/// <summary>The store's answer to a request for admission; the numbers are the scripts' return codes.</summary>
internal enum Verdict
{
    Admitted = 0,

    /// <summary>The requests of the last 60 seconds are at the <c>rpm</c> limit.</summary>
    RequestsExceeded = 1,

    /// <summary>The tokens of the last 60 seconds and this request's reservation would pass the <c>tpm</c> limit.</summary>
    TokensExceeded = 2,

    /// <summary>This request's reservation alone is larger than the <c>tpm</c> limit: it can never be admitted as it is.</summary>
    TokensNeverFit = 3,

    /// <summary>The subject has <c>concurrency</c> requests open.</summary>
    ConcurrencyExceeded = 4,

    /// <summary>
    /// The budget is spent: even if every reservation in flight came back, this request's reservation would pass it.
    /// Final until the period ends.
    /// </summary>
    BudgetExhausted = 5,

    /// <summary>
    /// The budget has room for the request, but reservations in flight hold it: the request may fit once they settle and
    /// return what they did not spend. Retry shortly.
    /// </summary>
    BudgetHeld = 6,
}
