namespace FcHandler.Limits;

/// <summary>
/// The Lua scripts behind <see cref="RedisLimitStore"/>: each decision is one script, so it is atomic and costs one
/// round trip. Every key a script touches is passed in KEYS and shares the subject's hash tag (<c>{subject}</c>), so
/// Tair's and Redis's cluster modes run it on one shard. Time is the store's (<c>TIME</c>), never an instance's:
/// instances whose clocks disagree still share one window. The algorithm is <see cref="MemoryLimitStore"/>'s, step for
/// step. Lua numbers are doubles: counts up to <see cref="LimitSet.MaxCount"/> and millisecond times stay exact.
/// Per rule the keys are: the rate window (a hash of <c>r&lt;second&gt;</c> request and <c>t&lt;second&gt;</c> token
/// counts), the open leases (a sorted set scored by expiry), the budget (a hash of period <c>p</c> and use <c>u</c>,
/// which counts what was spent and what is reserved) and the budget's reservations in flight (a sorted set of
/// <c>period|lease id|amount</c> scored by the lease's expiry: one short member per request open, pruned as leases lapse).
/// </summary>
internal static class RedisLimitScripts
{
    // Shared by the scripts: the store's clock (plus a skew only tests set), the window, and budget periods.
    private const string Prelude = """
        if redis.replicate_commands then pcall(redis.replicate_commands) end
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) + tonumber(ARGV[1])
        local sec = math.floor(now / 1000)

        local function window(key, keep)
          local raw = redis.call('HGETALL', key)
          local w = { r = {}, t = {}, rsum = 0, tsum = 0 }
          local stale = {}
          for i = 1, #raw, 2 do
            local kind, s, v = string.sub(raw[i], 1, 1), tonumber(string.sub(raw[i], 2)), tonumber(raw[i + 1])
            if s < sec - 60 then
              stale[#stale + 1] = raw[i]
            elseif kind == 'r' then
              w.r[s] = v
              w.rsum = w.rsum + v
            else
              w.t[s] = v
              w.tsum = w.tsum + v
            end
          end
          if not keep then
            for _, field in ipairs(stale) do redis.call('HDEL', key, field) end
          end
          return w
        end

        local function wait_until(buckets, total, allowed)
          local secs = {}
          for s in pairs(buckets) do secs[#secs + 1] = s end
          table.sort(secs)
          for _, s in ipairs(secs) do
            total = total - buckets[s]
            if total <= allowed then return (s + 61) * 1000 - now end
          end
          return 0
        end

        local function reset_in(buckets)
          local newest = nil
          for s in pairs(buckets) do if newest == nil or s > newest then newest = s end end
          if newest == nil then return 0 end
          return (newest + 61) * 1000 - now
        end

        local function days_from_civil(y, m, d)
          if m <= 2 then y = y - 1 end
          local era = math.floor(y / 400)
          local yoe = y - era * 400
          local mp = (m > 2) and (m - 3) or (m + 9)
          local doy = math.floor((153 * mp + 2) / 5) + d - 1
          return era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
        end

        local function civil_from_days(z)
          z = z + 719468
          local era = math.floor(z / 146097)
          local doe = z - era * 146097
          local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
          local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
          local mp = math.floor((5 * doy + 2) / 153)
          local m = (mp < 10) and (mp + 3) or (mp - 9)
          local y = yoe + era * 400
          if m <= 2 then y = y + 1 end
          return y, m
        end

        local function period(kind, offset)
          if kind == 'total' then return 'total', 0 end
          local days = math.floor((sec + offset) / 86400)
          if kind == 'day' then return 'd' .. days, (days + 1) * 86400 - offset end
          local y, m = civil_from_days(days)
          local ny, nm = y, m + 1
          if nm == 13 then ny, nm = y + 1, 1 end
          return 'm' .. (y * 12 + m - 1), days_from_civil(ny, nm, 1) * 86400 - offset
        end

        local function keep_budget(key, ends)
          if ends > 0 then redis.call('PEXPIREAT', key, (ends + 2 * 86400) * 1000) else redis.call('PERSIST', key) end
        end

        -- What the live reservations of a budget's period hold; with prune, the lapsed ones are dropped (they stay in
        -- the use: spent, as far as anyone knows).
        local function in_flight(key, id, prune)
          if prune then redis.call('ZREMRANGEBYSCORE', key, '-inf', now) end
          local sum = 0
          for _, m in ipairs(redis.call('ZRANGEBYSCORE', key, '(' .. now, '+inf')) do
            local p, amount = string.match(m, '^([^|]*)|.*|(%d+)$')
            if p == id then sum = sum + tonumber(amount) end
          end
          return sum
        end

        """;

    /// <summary>
    /// KEYS: per rule, rate, leases, budget, reservations. ARGV: skew ms, lease id, lease ttl ms, estimate, checks budget
    /// (1/0), UTC offset s, rule count, then per rule: rpm, tpm, concurrency, budget (-1: none), period (day, month,
    /// total). Returns: verdict, retry-after ms, requests limit/remaining/reset ms, tokens limit/remaining/reset ms (-1:
    /// none), the window second, budget limit/left/ends s/in flight (-1: none), the refusing rule (1-based, 0: none), then
    /// per rule the budget period reserved in.
    /// </summary>
    public const string Admit = Prelude + """
        local lease, ttl, estimate = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
        local checks_budget, offset, n = ARGV[5] == '1', tonumber(ARGV[6]), tonumber(ARGV[7])
        local verdict, retry, refused_by = 0, 0, 0
        local rules = {}
        for i = 1, n do
          local b = 7 + (i - 1) * 5
          local r = { rpm = tonumber(ARGV[b + 1]), tpm = tonumber(ARGV[b + 2]), conc = tonumber(ARGV[b + 3]),
            budget = tonumber(ARGV[b + 4]), kind = ARGV[b + 5], rate = KEYS[4 * i - 3], leases = KEYS[4 * i - 2], bkey = KEYS[4 * i - 1],
            hkey = KEYS[4 * i] }
          rules[i] = r
          if r.rpm >= 0 or r.tpm >= 0 then
            r.w = window(r.rate, false)
            if r.rpm >= 0 and verdict == 0 and r.w.rsum + 1 > r.rpm then
              verdict, retry, refused_by = 1, wait_until(r.w.r, r.w.rsum, r.rpm - 1), i
            end
            if r.tpm >= 0 and verdict == 0 then
              if estimate > r.tpm then
                verdict, refused_by = 3, i
              elseif r.w.tsum + estimate > r.tpm then
                verdict, retry, refused_by = 2, wait_until(r.w.t, r.w.tsum, r.tpm - estimate), i
              end
            end
          end
          if r.conc >= 0 then
            redis.call('ZREMRANGEBYSCORE', r.leases, '-inf', now)
            if verdict == 0 and redis.call('ZCARD', r.leases) + 1 > r.conc then verdict, retry, refused_by = 4, 1000, i end
          end
          if r.budget >= 0 and checks_budget then
            r.period, r.ends = period(r.kind, offset)
            local held = redis.call('HMGET', r.bkey, 'p', 'u')
            r.used = (held[1] == r.period) and tonumber(held[2] or '0') or 0
            r.flight = in_flight(r.hkey, r.period, true)
            local spent = r.used - r.flight
            if (verdict == 0 or verdict == 6) and (spent >= r.budget or spent + estimate > r.budget) then
              verdict, refused_by = 5, i
              retry = (r.ends > 0) and (r.ends * 1000 - now) or 0
            elseif verdict == 0 and (r.used >= r.budget or r.used + estimate > r.budget) then
              verdict, retry, refused_by = 6, 1000, i
            end
          end
        end

        local periods = {}
        for i = 1, n do
          local r = rules[i]
          periods[i] = ''
          if verdict == 0 then
            if r.w then
              if r.rpm >= 0 then
                redis.call('HINCRBY', r.rate, 'r' .. sec, 1)
                r.w.r[sec] = (r.w.r[sec] or 0) + 1
                r.w.rsum = r.w.rsum + 1
              end
              if r.tpm >= 0 and estimate > 0 then
                redis.call('HINCRBY', r.rate, 't' .. sec, estimate)
                r.w.t[sec] = (r.w.t[sec] or 0) + estimate
                r.w.tsum = r.w.tsum + estimate
              end
              redis.call('PEXPIRE', r.rate, 62000)
            end
            if r.conc >= 0 then
              redis.call('ZADD', r.leases, now + ttl, lease)
              redis.call('PEXPIRE', r.leases, ttl + 1000)
            end
            if r.budget >= 0 and checks_budget then
              redis.call('HSET', r.bkey, 'p', r.period, 'u', r.used + estimate)
              keep_budget(r.bkey, r.ends)
              if estimate > 0 then
                redis.call('ZADD', r.hkey, now + ttl, r.period .. '|' .. lease .. '|' .. ARGV[4])
                redis.call('PEXPIRE', r.hkey, ttl + 1000)
              end
              periods[i] = r.period
            end
          end
        end

        local req, tok, bud = nil, nil, nil
        for i = 1, n do
          local r = rules[i]
          if r.w and r.rpm >= 0 then
            local left = math.max(0, r.rpm - r.w.rsum)
            if req == nil or left < req[2] then req = { r.rpm, left, reset_in(r.w.r) } end
          end
          if r.w and r.tpm >= 0 then
            local left = math.max(0, r.tpm - r.w.tsum)
            if tok == nil or left < tok[2] then tok = { r.tpm, left, reset_in(r.w.t) } end
          end
          if r.budget >= 0 and checks_budget then
            local mine = (verdict == 0) and estimate or 0
            local left = r.budget - r.used - mine
            if bud == nil or left < bud[2] then bud = { r.budget, left, r.ends, r.flight + mine } end
          end
        end
        req = req or { -1, -1, -1 }
        tok = tok or { -1, -1, -1 }
        bud = bud or { -1, -1, -1, -1 }
        local out = { verdict, retry, req[1], req[2], req[3], tok[1], tok[2], tok[3], sec, bud[1], bud[2], bud[3], bud[4], refused_by }
        for i = 1, n do out[#out + 1] = periods[i] end
        return out
        """;

    /// <summary>
    /// KEYS: per rule, rate, leases, budget, reservations. ARGV: skew ms, lease id, estimate, actual (-1: keep the
    /// reservation), the window second of the reservation, rule count, then per rule: has tpm, has concurrency (1/0), the
    /// period reserved in. The reservation is no longer in flight, whatever it is charged.
    /// </summary>
    public const string Settle = Prelude + """
        local lease, estimate, actual, at, n = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
        for i = 1, n do
          local b = 6 + (i - 1) * 3
          local rate, leases, bkey = KEYS[4 * i - 3], KEYS[4 * i - 2], KEYS[4 * i - 1]
          local reserved_in = ARGV[b + 3]
          if ARGV[b + 2] == '1' then redis.call('ZREM', leases, lease) end
          if reserved_in ~= '' then redis.call('ZREM', KEYS[4 * i], reserved_in .. '|' .. lease .. '|' .. ARGV[3]) end
          if actual >= 0 and actual ~= estimate then
            local delta = actual - estimate
            if reserved_in ~= '' and redis.call('HGET', bkey, 'p') == reserved_in then
              local used = redis.call('HINCRBY', bkey, 'u', delta)
              if used <= 0 then redis.call('DEL', bkey) end
            end
            if ARGV[b + 1] == '1' then
              if redis.call('HEXISTS', rate, 't' .. at) == 1 then
                if redis.call('HINCRBY', rate, 't' .. at, delta) < 0 then redis.call('HSET', rate, 't' .. at, 0) end
              elseif delta > 0 then
                redis.call('HINCRBY', rate, 't' .. sec, delta)
                redis.call('PEXPIRE', rate, 62000)
              end
            end
          end
        end
        return 1
        """;

    /// <summary>
    /// KEYS: per rule, rate, leases, budget, reservations. ARGV: skew ms, tokens, UTC offset s, rule count, then per rule: has tpm
    /// (1/0), budget (-1: none), period. Returns the tightest budget: limit, left, ends s (-1: none).
    /// </summary>
    public const string Charge = Prelude + """
        local tokens, offset, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        local bud = nil
        for i = 1, n do
          local b = 4 + (i - 1) * 3
          local rate, bkey = KEYS[4 * i - 3], KEYS[4 * i - 1]
          if ARGV[b + 1] == '1' and tokens > 0 then
            redis.call('HINCRBY', rate, 't' .. sec, tokens)
            redis.call('PEXPIRE', rate, 62000)
          end
          local budget = tonumber(ARGV[b + 2])
          if budget >= 0 then
            local id, ends = period(ARGV[b + 3], offset)
            local held = redis.call('HMGET', bkey, 'p', 'u')
            local used = ((held[1] == id) and tonumber(held[2] or '0') or 0) + tokens
            if used > 0 then
              redis.call('HSET', bkey, 'p', id, 'u', used)
              keep_budget(bkey, ends)
            end
            if bud == nil or budget - used < bud[2] then bud = { budget, budget - used, ends } end
          end
        end
        return bud or { -1, -1, -1 }
        """;

    /// <summary>
    /// KEYS: the leases of each rule with a concurrency limit, then the reservations of each budget reserved from. ARGV:
    /// skew ms, lease id, lease ttl ms, the count of lease keys, then per reservations key the reservation's member. A
    /// reservation whose lease already lapsed is not brought back: it stays spent, no longer in flight.
    /// </summary>
    public const string Renew = Prelude + """
        local ttl, n = tonumber(ARGV[3]), tonumber(ARGV[4])
        for i = 1, n do
          redis.call('ZADD', KEYS[i], 'XX', now + ttl, ARGV[2])
          redis.call('PEXPIRE', KEYS[i], ttl + 1000)
        end
        for i = n + 1, #KEYS do
          local member = ARGV[4 + i - n]
          local expires = redis.call('ZSCORE', KEYS[i], member)
          if expires and tonumber(expires) > now then
            redis.call('ZADD', KEYS[i], 'XX', now + ttl, member)
            redis.call('PEXPIRE', KEYS[i], ttl + 1000)
          end
        end
        return 1
        """;

    /// <summary>
    /// Read-only. KEYS: per rule, rate, leases, budget, reservations. ARGV: skew ms, UTC offset s, rule count, then per
    /// rule the period. Returns per rule: requests and tokens in the window, open leases, budget used, period ends s, and
    /// what reservations in flight hold of the use.
    /// </summary>
    public const string Show = Prelude + """
        local offset, n = tonumber(ARGV[2]), tonumber(ARGV[3])
        local out = {}
        for i = 1, n do
          local w = window(KEYS[4 * i - 3], true)
          local id, ends = period(ARGV[3 + i], offset)
          local held = redis.call('HMGET', KEYS[4 * i - 1], 'p', 'u')
          local used = (held[1] == id) and tonumber(held[2] or '0') or 0
          local open = redis.call('ZCOUNT', KEYS[4 * i - 2], '(' .. now, '+inf')
          out[#out + 1] = w.rsum
          out[#out + 1] = w.tsum
          out[#out + 1] = open
          out[#out + 1] = used
          out[#out + 1] = ends
          out[#out + 1] = in_flight(KEYS[4 * i], id, false)
        end
        return out
        """;

    /// <summary>KEYS: the revoked ids (a set), their version. ARGV: the version the caller has. Returns the version, then the ids if it changed.</summary>
    public const string ReadRevocations = """
        local version = redis.call('GET', KEYS[2]) or '0'
        if version == ARGV[1] then return { version } end
        local out = { version }
        for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do out[#out + 1] = id end
        return out
        """;

    /// <summary>KEYS: the revoked ids, their version. ARGV: the id. Returns 1 if it was not revoked before.</summary>
    public const string Revoke = """
        local added = redis.call('SADD', KEYS[1], ARGV[1])
        if added == 1 then redis.call('INCR', KEYS[2]) end
        return added
        """;
}
