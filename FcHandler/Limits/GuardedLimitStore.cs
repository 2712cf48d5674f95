using FcHandler.Logging;
using StackExchange.Redis;

namespace FcHandler.Limits;

/// <summary>
/// Every call to the shared store goes through here: it waits at most <c>LIMITS_STORE_TIMEOUT</c>, and when the store
/// does not answer, <c>LIMITS_STORE_FAILURE</c> decides. <c>local</c>: this instance's own counters decide, and a
/// warning is logged once a minute; <c>closed</c>: the caller refuses (503). A connection the store dropped (while the
/// instance sat frozen, say) is replaced and the call tried once more within the same wait, so the request that finds
/// it dead does not fail. While the store is known to be down, calls do not wait for it again, except one a second
/// that finds out whether it is back. Without a shared store, everything runs in memory.
/// </summary>
internal sealed class GuardedLimitStore : IAsyncDisposable
{
    /// <summary>While the store is down, how often a call still waits for it (the others fall back at once).</summary>
    public static readonly TimeSpan ProbeEvery = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan WarnEvery = TimeSpan.FromMinutes(1);

    private readonly LimitsOptions _options;
    private readonly RedisConnection? _connection;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private long _outageSince = -1; // timestamp of the first failure of an outage, -1 while the store answers
    private long _lastProbe;
    private bool _outageWarned; // the current outage's warning was written, so its end is worth a line too
    private readonly LogThrottle _warnings;
    private readonly LogThrottle _settleFailures;

    public GuardedLimitStore(LimitsOptions options, MemoryLimitStore memory, RedisLimitStore? shared, RedisConnection? connection, TimeProvider time, ILogger logger)
    {
        _options = options;
        Memory = memory;
        Shared = shared;
        _connection = connection;
        _time = time;
        _logger = logger;
        _warnings = new LogThrottle(time, WarnEvery);
        _settleFailures = new LogThrottle(time, WarnEvery);
    }

    public LimitsOptions Options => _options;

    /// <summary>This instance's counters: the store without a shared one, and the fallback in <c>local</c> mode.</summary>
    public MemoryLimitStore Memory { get; }

    /// <summary>The shared store, or null.</summary>
    public RedisLimitStore? Shared { get; }

    /// <summary>The shared store's connection, or null.</summary>
    internal RedisConnection? Connection => _connection;


    public string Name => Shared?.Name ?? Memory.Name;

    /// <summary>
    /// Runs <paramref name="call"/> on the shared store, else on this instance's counters, per the failure mode.
    /// Returns the result and the store that gave it; (default, null) when the store failed in <c>closed</c> mode.
    /// </summary>
    public async Task<(T? Result, ILimitStore? By)> RunAsync<T>(Func<ILimitStore, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        if (Shared is null)
        {
            return (await call(Memory, cancellationToken).ConfigureAwait(false), Memory);
        }

        var (answered, result, reason) = SkipWhileDown() ? (false, default, "it did not answer the last call") : await TryAsync(call, cancellationToken).ConfigureAwait(false);
        if (answered)
        {
            return (result, Shared);
        }

        cancellationToken.ThrowIfCancellationRequested();
        WarnAboutOutage(reason);
        return _options.FailureMode == StoreFailureMode.Local
            ? (await call(Memory, cancellationToken).ConfigureAwait(false), Memory)
            : (default, null);
    }

    /// <summary>
    /// Runs <paramref name="call"/> on <paramref name="store"/> (the one a lease was taken in) within the timeout, with no
    /// fallback: true if it answered.
    /// </summary>
    public async Task<bool> TryOnAsync(ILimitStore store, Func<ILimitStore, CancellationToken, Task> call, CancellationToken cancellationToken)
    {
        if (store != Shared)
        {
            await call(store, cancellationToken).ConfigureAwait(false);
            return true;
        }

        var (answered, _, reason) = SkipWhileDown() ? (false, false, "it did not answer the last call") : await TryAsync(async (s, token) =>
        {
            await call(s, token).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        if (!answered)
        {
            WarnAboutOutage(reason);
        }

        return answered;
    }

    private async Task<(bool Answered, T? Result, string Reason)> TryAsync<T>(Func<ILimitStore, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        // One bound for the call and its one retry: the timeout's cancellation ends whichever wait is under way.
        var started = _time.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.StoreTimeout);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var result = await call(Shared!, timeout.Token).WaitAsync(timeout.Token).ConfigureAwait(false);
                Answered();
                return (true, result, "");
            }
            catch (RedisConnectionException exception) when (attempt == 1 && !timeout.IsCancellationRequested)
            {
                // The connection died under the call (the store dropped it while this instance was frozen, or restarted):
                // the library is already reconnecting. Wait for that within what is left of the timeout, and try once more.
                var left = _options.StoreTimeout - _time.GetElapsedTime(started);
                if (left <= TimeSpan.Zero || !await _connection!.WaitConnectedAsync(left, cancellationToken).ConfigureAwait(false))
                {
                    return (false, default, Describe(exception));
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return (false, default, Describe(exception));
            }
        }
    }

    private static string Describe(Exception exception) => exception switch
    {
        TimeoutException or OperationCanceledException => "no answer within LIMITS_STORE_TIMEOUT",
        RedisConnectionException connection => $"connection: {connection.FailureType}",
        RedisServerException server => $"the store refused a script: {FirstLine(server.Message)}",
        _ => $"{exception.GetType().Name}: {FirstLine(exception.Message)}",
    };

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    // While an outage lasts and the connection is still down, calls fall back at once; one a second still tries.
    private bool SkipWhileDown()
    {
        lock (_lock)
        {
            if (_outageSince < 0 || _connection!.IsConnected)
            {
                return false;
            }

            var now = _time.GetTimestamp();
            if (_time.GetElapsedTime(_lastProbe, now) >= ProbeEvery)
            {
                _lastProbe = now;
                return false;
            }

            return true;
        }
    }

    private void Answered()
    {
        long since;
        bool warned;
        lock (_lock)
        {
            (since, warned) = (_outageSince, _outageWarned);
            _outageSince = -1;
            _outageWarned = false;
        }

        if (since >= 0 && warned)
        {
            ProxyLog.LimitsStoreRestored(_logger, Name, Math.Round(_time.GetElapsedTime(since).TotalSeconds, 1));
        }
    }

    // Once a minute at most, whether the store stays down or flaps: the line says how many calls fell back meanwhile.
    private void WarnAboutOutage(string reason)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            if (_outageSince < 0)
            {
                _outageSince = now;
                _lastProbe = now;
            }
        }

        if (!_warnings.TryWrite(out var heldBack))
        {
            return;
        }

        lock (_lock)
        {
            _outageWarned = true;
        }

        ProxyLog.LimitsStoreUnavailable(_logger, Name, reason, heldBack, _options.FailureMode == StoreFailureMode.Local
            ? "deciding on this instance's own counters (LIMITS_STORE_FAILURE=local), so limits hold per instance until it is back"
            : "refusing requests that have limits with 503 limits_unavailable (LIMITS_STORE_FAILURE=closed)");
    }

    /// <summary>Whether a failed settlement should be logged now (once a minute), and how many were not since the last line.</summary>
    public bool ShouldLogSettleFailure(out long heldBack) => _settleFailures.TryWrite(out heldBack);

    /// <summary>
    /// Connects to the shared store and runs one script there, once, logging how long the connection took or why the
    /// store cannot run the limits (a store without Lua scripting, a wrong password). Started at start-up; FC's
    /// initializer waits for it, so the first request finds the connection open.
    /// </summary>
    public Task Ready => _ready ??= CheckAsync();

    private Task? _ready;

    private async Task CheckAsync()
    {
        if (Shared is null)
        {
            return;
        }

        // Connected, or the first attempt's failure (a wrong password, a whitelist that leaves the instance out), said
        // as soon as it is known.
        var started = _time.GetTimestamp();
        var connected = _connection!.WaitConnectedAsync(RedisConnection.ConnectTimeout, CancellationToken.None);
        if (await Task.WhenAny(connected, _connection.FirstFailure).ConfigureAwait(false) != connected || !await connected.ConfigureAwait(false))
        {
            WarnAboutOutage($"cannot connect: {_connection.LastFailure ?? $"no connection within {RedisConnection.ConnectTimeout.TotalSeconds:0}s"}");
            return;
        }

        try
        {
            await Shared.ReadRevocationsAsync(-1, CancellationToken.None).WaitAsync(RedisConnection.ConnectTimeout).ConfigureAwait(false);
            ProxyLog.LimitsStoreConnected(_logger, Name, Math.Round(_time.GetElapsedTime(started).TotalMilliseconds, 1));
        }
        catch (RedisServerException exception)
        {
            ProxyLog.LimitsStoreUnusable(_logger, Name, FirstLine(exception.Message));
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            WarnAboutOutage(Describe(exception));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
