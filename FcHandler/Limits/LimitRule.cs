namespace FcHandler.Limits;

/// <summary>
/// The limits of one scope of a subject: all its requests (<see cref="Model"/> null), or those that name a model the
/// pattern matches. A null limit is no limit. Zero is a limit: <c>rpm[o1-pro*]=0</c> shuts a model off for a subject.
/// </summary>
internal sealed record LimitRule
{
    /// <summary>An exact model id, or a prefix ending in <c>*</c>; null for the rule over all of a subject's requests.</summary>
    public string? Model { get; init; }

    /// <summary>Requests admitted in any 60 seconds.</summary>
    public long? RequestsPerMinute { get; init; }

    /// <summary>Tokens in any 60 seconds: each request's reservation at admission, corrected to its usage when it ends.</summary>
    public long? TokensPerMinute { get; init; }

    /// <summary>Requests open at once: a stream or a WebSocket counts until it ends.</summary>
    public long? Concurrency { get; init; }

    /// <summary>Tokens per <see cref="BudgetPeriod"/>, never exceeded by reservations.</summary>
    public long? Budget { get; init; }

    public BudgetPeriod BudgetPeriod { get; init; } = BudgetPeriod.Total;

    /// <summary>The rule's name in store keys, logs and <c>limits show</c>: <c>all</c>, or <c>model:</c> and its pattern.</summary>
    public string Scope => Model is null ? "all" : "model:" + Model;

    public bool IsEmpty => RequestsPerMinute is null && TokensPerMinute is null && Concurrency is null && Budget is null;

    public bool Matches(string model) => Model is not null && (Model.EndsWith('*')
        ? model.StartsWith(Model.AsSpan(0, Model.Length - 1), StringComparison.Ordinal)
        : model.Equals(Model, StringComparison.Ordinal));
}
