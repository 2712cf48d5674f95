using FcHandler.Limits;
using FcHandler.Logging;
using StackExchange.Redis;

namespace FcHandler.Keys;

/// <summary>
/// The pool's cooldowns, shared through the limits store (<c>LIMITS_STORE</c>) so instances don't each rediscover a key
/// that is out: an instance that puts a key to rest writes it there with the rest as the entry's time to live, and every
/// instance reads the pool's entries at most once a second, in the background of a request that chooses a key, and
/// adopts what they say. Rests end on the store's clock (its time to live), whatever the instances' clocks say; a
/// request whose key answers again lifts the entry. Each is one short script, one round trip, within
/// <c>LIMITS_STORE_TIMEOUT</c>. When the store is down, each instance keeps its own cooldowns, and says so once a minute.
/// </summary>
internal sealed class SharedKeyCooldowns
{
    /// <summary>How often an instance reads the others' cooldowns (and so how late it may learn of one).</summary>
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(1);

    /// <summary>Each key's remaining rest (ms, by the store's clock; 0 for none) and reason, in the order of KEYS.</summary>
    internal const string ReadScript = """
        local r = {}
        for i = 1, #KEYS do
          local ttl = redis.call('PTTL', KEYS[i])
          if ttl > 0 then
            r[#r + 1] = ttl
            r[#r + 1] = redis.call('GET', KEYS[i])
          else
            r[#r + 1] = 0
            r[#r + 1] = ''
          end
        end
        return r
        """;

    /// <summary>Rests KEYS[1] for ARGV[1] ms with reason ARGV[2], unless it already rests longer.</summary>
    internal const string WriteScript = """
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl < tonumber(ARGV[1]) then
          redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
        end
        return 1
        """;

    private readonly RedisConnection _connection;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RedisKey[] _keys;
    private readonly LogThrottle _warnings;
    private long _lastRefresh = long.MinValue;
    private int _refreshing;

    public SharedKeyCooldowns(IReadOnlyList<UpstreamKey> keys, RedisConnection connection, TimeSpan timeout, TimeProvider time, ILogger logger)
    {
        _connection = connection;
        _timeout = timeout;
        _time = time;
        _logger = logger;
        // One hash tag for the whole pool, so a cluster keeps the entries on one shard and one script reads them all.
        _keys = [.. keys.Select(key => (RedisKey)("fcp:{keypool}:cooldown:" + key.Fingerprint))];
        _warnings = new LogThrottle(time, TimeSpan.FromMinutes(1));
    }

    public string Name => _connection.Address.ToString();

    /// <summary>Starts a read of the store when the last is a second old; never waits for it.</summary>
    public void RefreshIfDue(KeyPool pool)
    {
        var now = _time.GetTimestamp();
        var last = Volatile.Read(ref _lastRefresh);
        if ((last != long.MinValue && _time.GetElapsedTime(last, now) < RefreshEvery) || Interlocked.CompareExchange(ref _refreshing, 1, 0) != 0)
        {
            return;
        }

        Volatile.Write(ref _lastRefresh, now);
        _ = RefreshAsync(pool);
    }

    /// <summary>Reads the store now and applies what it holds; false when it did not answer.</summary>
    public async Task<bool> RefreshAsync(KeyPool pool)
    {
        try
        {
            var values = (RedisResult[])(await EvaluateAsync(ReadScript, _keys, []).ConfigureAwait(false))!;
            for (var i = 0; i < _keys.Length; i++)
            {
                var remaining = (long)values[i * 2];
                if (remaining > 0)
                {
                    pool.Adopt(i, TimeSpan.FromMilliseconds(remaining), (string?)values[(i * 2) + 1] ?? "");
                }
                else
                {
                    pool.AdoptNone(i);
                }
            }

            return true;
        }
        catch (Exception exception)
        {
            Warn(exception);
            return false;
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }

    /// <summary>Writes key <paramref name="index"/>'s rest to the store, in the background.</summary>
    public void Publish(int index, TimeSpan rest, string reason) => _ = WriteAsync(index, rest, reason);

    /// <summary>Lifts key <paramref name="index"/>'s rest in the store, in the background: it answered again.</summary>
    public void Lift(int index) => _ = LiftAsync(index);

    internal async Task<bool> WriteAsync(int index, TimeSpan rest, string reason)
    {
        try
        {
            await EvaluateAsync(WriteScript, [_keys[index]], [(long)Math.Ceiling(rest.TotalMilliseconds), reason]).ConfigureAwait(false);
            return true;
        }
        catch (Exception exception)
        {
            Warn(exception);
            return false;
        }
    }

    private async Task LiftAsync(int index)
    {
        try
        {
            var multiplexer = await _connection.Multiplexer.WaitAsync(_timeout).ConfigureAwait(false);
            await multiplexer.GetDatabase().KeyDeleteAsync(_keys[index]).WaitAsync(_timeout).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Warn(exception);
        }
    }

    private async Task<RedisResult> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] args)
    {
        var multiplexer = await _connection.Multiplexer.WaitAsync(_timeout).ConfigureAwait(false);
        return await multiplexer.GetDatabase().ScriptEvaluateAsync(script, keys, args).WaitAsync(_timeout).ConfigureAwait(false);
    }

    private void Warn(Exception exception)
    {
        if (_warnings.TryWrite(out var heldBack))
        {
            ProxyLog.KeyCooldownsUnshared(_logger, Name, exception.GetType().Name, heldBack);
        }
    }
}
