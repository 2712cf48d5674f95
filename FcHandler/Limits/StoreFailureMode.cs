namespace FcHandler.Limits;

/// <summary>What a request meets when the shared store does not answer in time (<c>LIMITS_STORE_FAILURE</c>).</summary>
internal enum StoreFailureMode
{
    /// <summary>Decide on this instance's own counters, and warn once a minute: limits hold per instance until the store is back.</summary>
    Local,

    /// <summary>Refuse with 503 <c>limits_unavailable</c> and <c>Retry-After</c>: nothing passes that the limits could not check.</summary>
    Closed,
}
