namespace FcHandler.Limits;

/// <summary>
/// Rate limits and budgets per subject, read once at start-up by <see cref="LimitsOptionsReader"/>. With no limit
/// anywhere (no <c>LIMITS_DEFAULT</c>, no <c>LIMITS_BY_SUBJECT</c>, no <c>limits</c> claim in a token) nothing is
/// counted and no store is touched.
/// </summary>
internal sealed class LimitsOptions
{
    /// <summary>The shared store (<c>LIMITS_STORE</c>); null for the default, this instance's memory.</summary>
    public RedisStoreAddress? Store { get; init; }

    /// <summary>What a failing store means (<c>LIMITS_STORE_FAILURE</c>). Defaults to <see cref="StoreFailureMode.Local"/>.</summary>
    public StoreFailureMode FailureMode { get; init; } = StoreFailureMode.Local;

    /// <summary>
    /// The longest a request waits for the store (<c>LIMITS_STORE_TIMEOUT</c>). Defaults to 250 ms: a store in the
    /// function's VPC answers in about a millisecond, but an instance of 0.1 vCPU that has used its CPU quota waits up
    /// to 90 ms for the next period before it even reads the answer (bench/README.md, limits).
    /// </summary>
    public TimeSpan StoreTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Limits of every subject without limits of its own (<c>LIMITS_DEFAULT</c>); null for none.</summary>
    public LimitSet? Default { get; init; }

    /// <summary>Limits by subject (<c>LIMITS_BY_SUBJECT</c>): static tokens' <c>static-N</c>, client keys' <c>key-...</c>, any signed token's subject.</summary>
    public IReadOnlyDictionary<string, LimitSet> BySubject { get; init; } = new Dictionary<string, LimitSet>();

    /// <summary>
    /// The output a request may produce when it sets no cap of its own (<c>LIMITS_DEFAULT_OUTPUT_TOKENS</c>). Defaults to
    /// 16,384 (the largest output of gpt-4o). Where a budget applies, the proxy adds this cap to a chat or Responses
    /// request that sets none, so the reservation bounds what it can cost.
    /// </summary>
    public long DefaultOutputTokens { get; init; } = 16_384;

    /// <summary>
    /// Whether a chat or Responses request without a cap of its own, near the end of a budget, gets a cap that fits what
    /// is left instead of a refusal (<c>LIMITS_FIT_CAP</c>, <see cref="FittedCap"/>). Defaults to on.
    /// </summary>
    public bool FitCap { get; init; } = true;

    /// <summary>Where budget days and months start (<c>LIMITS_UTC_OFFSET</c>), in seconds east of UTC. Defaults to 0 (UTC midnight).</summary>
    public int UtcOffsetSeconds { get; init; }

    /// <summary>A private CA for a <c>rediss://</c> store (<c>LIMITS_STORE_CA_FILE</c>); null trusts what the upstream is checked against.</summary>
    public string? StoreCaFile { get; init; }

    /// <summary>Whether any limit is set in the configuration (tokens may still bring their own).</summary>
    public bool AnyConfigured => Default is not null || BySubject.Count > 0;

    /// <summary>The ids <c>PROXY_REVOKED_TOKEN_IDS</c> lists (revoked without the store).</summary>
    public HashSet<string> RevokedIdsFrom(IConfiguration configuration)
        => [.. (configuration[Hosting.ConfigKeys.ProxyRevokedTokenIds] ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    /// <summary>The limits configured for <paramref name="subject"/>: its own entry, else the default; null when neither.</summary>
    public LimitSet? For(string subject) => BySubject.TryGetValue(subject, out var own) ? own : Default;
}
