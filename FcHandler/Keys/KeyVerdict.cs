namespace FcHandler.Keys;

/// <summary>What an upstream answer says about the key that got it.</summary>
internal enum KeyHealth
{
    /// <summary>The key works (any answer that is not one of the others, the client's own errors included).</summary>
    Works,

    /// <summary>The answer says nothing about the key: a 504, a timeout, a cut after the request was sent. No failover, no cooldown.</summary>
    Unknown,

    /// <summary>429 rate limit: cool down until OpenAI says the limit resets.</summary>
    RateLimited,

    /// <summary>Out of quota, revoked, or the account refused: cool down for long, and say so loudly.</summary>
    Refused,

    /// <summary>The connection or TLS failed before the request left, or a 500, 502 or 503: a short cooldown.</summary>
    Failing,
}

/// <summary>The verdict on one attempt: how the key is, for how long it should rest, and why (for the log).</summary>
internal readonly record struct KeyVerdict(KeyHealth Health, TimeSpan Cooldown, string Reason)
{
    public static readonly KeyVerdict Works = new(KeyHealth.Works, TimeSpan.Zero, "");

    public static readonly KeyVerdict Unknown = new(KeyHealth.Unknown, TimeSpan.Zero, "");

    /// <summary>Another key may take the request: the answer is about this key, and nothing can have been charged.</summary>
    public bool FailsOver => Health is KeyHealth.RateLimited or KeyHealth.Refused or KeyHealth.Failing;
}
