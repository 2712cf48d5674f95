using System.Collections.Frozen;

namespace FcHandler.Limits;

/// <summary>
/// The signed-token ids revoked through the shared store (<c>token revoke</c>), as this instance last read them. A
/// token is checked against a list at most <see cref="RefreshEvery"/> old: an instance reads the list again when a
/// request finds it older (one short script, the ids only when their version moved), never on a timer, which FC would
/// freeze with the instance. So every instance refuses a revoked token within a few seconds, a thawed one included.
/// If the store does not answer, <c>local</c> mode keeps the last list it read and <c>closed</c> mode cannot tell.
/// </summary>
internal sealed class RevocationList(GuardedLimitStore store, TimeProvider time)
{
    /// <summary>How old the list may be when a token is checked against it.</summary>
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private FrozenSet<string> _ids = FrozenSet<string>.Empty;
    private long _version = -1;
    private long _readAt;
    private Task<bool>? _reading;

    /// <summary>Whether there is a list to check at all: only with a shared store.</summary>
    public bool Enabled => store.Shared is not null;

    /// <summary>True if revoked, false if not, null when the store could not be read and there is no list to go by.</summary>
    public async Task<bool?> IsRevokedAsync(string tokenId, CancellationToken cancellationToken)
    {
        if (store.Shared is null)
        {
            return false;
        }

        Task<bool>? reading;
        lock (_lock)
        {
            if (_version >= 0 && time.GetElapsedTime(_readAt) < RefreshEvery)
            {
                reading = null;
            }
            else
            {
                // Not the caller's token: other requests wait for the same read. The store's timeout bounds it.
                reading = _reading is { IsCompleted: false } ? _reading : _reading = ReadAsync();
            }
        }

        var current = reading is null || await reading.ConfigureAwait(false);
        return !current && store.Options.FailureMode == StoreFailureMode.Closed ? null : _ids.Contains(tokenId);
    }

    // One read at a time, shared by the requests that wait for it.
    private async Task<bool> ReadAsync()
    {
        Revocations? read = null;
        var known = Volatile.Read(ref _version);
        var answered = await store.TryOnAsync(
            store.Shared!, async (shared, token) => read = await shared.ReadRevocationsAsync(known, token).ConfigureAwait(false), CancellationToken.None)
            .ConfigureAwait(false);
        if (answered && read is not null)
        {
            lock (_lock)
            {
                if (read.Ids is { } ids)
                {
                    _ids = ids.ToFrozenSet(StringComparer.Ordinal);
                }

                _version = read.Version;
                _readAt = time.GetTimestamp();
            }
        }

        return answered;
    }
}
