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

    /// <summary>The budget's use and this request's reservation would pass the budget.</summary>
    BudgetExhausted = 5,
}
