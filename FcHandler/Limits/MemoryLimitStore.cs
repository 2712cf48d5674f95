namespace FcHandler.Limits;

/// <summary>
/// Counters in this process: the store of a single instance (the default), and the fallback when a shared store fails
/// in <c>local</c> mode. FC runs as many instances as traffic needs and each would have counters of its own, so with
/// more than one instance these limits hold per instance only (docs/limits.md). The same algorithm as
/// <see cref="RedisLimitScripts"/>, step for step, and held to the same tests; one lock makes each decision atomic.
/// </summary>
internal sealed class MemoryLimitStore(TimeProvider time, int utcOffsetSeconds) : ILimitStore
{
    /// <summary>How often idle entries are swept, so counters of subjects gone quiet (or of random keys) do not pile up.</summary>
    private static readonly TimeSpan SweepEvery = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, long>> _leases = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BudgetEntry> _budgets = new(StringComparer.Ordinal);
    private readonly HashSet<string> _revoked = new(StringComparer.Ordinal);
    private long _revocationVersion;
    private long _nextSweepMs;

    public string Name => "memory";

    /// <summary>Entries held (windows, lease sets, budgets), for tests of the sweep.</summary>
    internal int EntryCount
    {
        get
        {
            lock (_lock)
            {
                return _windows.Count + _leases.Count + _budgets.Count;
            }
        }
    }

    public Task<AdmissionResult> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(Admit(request));
        }
    }

    private AdmissionResult Admit(AdmissionRequest request)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var second = FloorDiv(now, 1000);
        Sweep(now, second);
        var estimate = request.Estimate;
        var verdict = Verdict.Admitted;
        var retry = 0L;
        LimitRule? refusedBy = null;
        var rules = request.Rules;
        var windows = new Window?[rules.Length];
        var budgets = new (string Id, long EndsAt, long Used, long InFlight)[rules.Length];

        // 1. Check every rule; nothing changes until all allow the request.
        for (var i = 0; i < rules.Length; i++)
        {
            var rule = rules[i];
            var before = verdict;
            var key = Key(request.Subject, rule);
            if (rule.RequestsPerMinute is not null || rule.TokensPerMinute is not null)
            {
                var window = windows[i] = WindowOf(key, second);
                if (rule.RequestsPerMinute is { } rpm && verdict == Verdict.Admitted && window.RequestSum + 1 > rpm)
                {
                    (verdict, retry) = (Verdict.RequestsExceeded, WaitUntil(window.Requests, window.RequestSum, rpm - 1, now));
                }

                if (rule.TokensPerMinute is { } tpm && verdict == Verdict.Admitted)
                {
                    if (estimate > tpm)
                    {
                        verdict = Verdict.TokensNeverFit;
                    }
                    else if (window.TokenSum + estimate > tpm)
                    {
                        (verdict, retry) = (Verdict.TokensExceeded, WaitUntil(window.Tokens, window.TokenSum, tpm - estimate, now));
                    }
                }
            }

            if (rule.Concurrency is { } concurrency)
            {
                var open = OpenLeases(key, now);
                if (verdict == Verdict.Admitted && open + 1 > concurrency)
                {
                    (verdict, retry) = (Verdict.ConcurrencyExceeded, 1000);
                }
            }

            if (rule.Budget is { } budget && request.ChecksBudget)
            {
                var (id, endsAt) = LimitStores.Period(rule.BudgetPeriod, second, utcOffsetSeconds);
                var entry = _budgets.TryGetValue(key, out var held) && held.Period == id ? held : null;
                var used = entry?.Used ?? 0;
                var inFlight = entry?.InFlight(now) ?? 0;
                budgets[i] = (id, endsAt, used, inFlight);

                // Spent, even if every reservation in flight came back: final. Room held by reservations in flight: a
                // wait. A later rule that is spent overrules an earlier one's wait, so the final answer is never missed.
                var spent = used - inFlight;
                if ((verdict is Verdict.Admitted or Verdict.BudgetHeld) && (spent >= budget || spent + estimate > budget))
                {
                    (verdict, retry) = (Verdict.BudgetExhausted, endsAt > 0 ? (endsAt * 1000) - now : 0);
                }
                else if (verdict == Verdict.Admitted && (used >= budget || used + estimate > budget))
                {
                    (verdict, retry) = (Verdict.BudgetHeld, LimitStores.HeldRetryMs);
                }
            }

            if (verdict != before)
            {
                refusedBy = rule;
            }
        }

        // 2. Admitted: count the request, reserve its estimate, and take its lease.
        var admitted = verdict == Verdict.Admitted;
        var periods = new string[rules.Length];
        for (var i = 0; i < rules.Length && admitted; i++)
        {
            var rule = rules[i];
            var key = Key(request.Subject, rule);
            if (windows[i] is { } window)
            {
                if (rule.RequestsPerMinute is not null)
                {
                    window.Add(window.Requests, second, 1);
                }

                if (rule.TokensPerMinute is not null && estimate > 0)
                {
                    window.Add(window.Tokens, second, estimate);
                }
            }

            if (rule.Concurrency is not null)
            {
                if (!_leases.TryGetValue(key, out var open))
                {
                    _leases[key] = open = new Dictionary<string, long>(StringComparer.Ordinal);
                }

                open[request.LeaseId] = now + (long)LimitStores.LeaseTtl.TotalMilliseconds;
            }

            if (rule.Budget is not null && request.ChecksBudget)
            {
                var (id, endsAt, _, _) = budgets[i];
                if (!_budgets.TryGetValue(key, out var entry) || entry.Period != id)
                {
                    _budgets[key] = entry = new BudgetEntry(id, endsAt);
                }

                entry.Used += estimate;
                if (estimate > 0)
                {
                    entry.Reservations[request.LeaseId] = (estimate, now + (long)LimitStores.LeaseTtl.TotalMilliseconds);
                }

                periods[i] = id;
            }
            else
            {
                periods[i] = "";
            }
        }

        return new AdmissionResult(
            verdict,
            retry,
            Tightest(rules, windows, now, tokens: false),
            Tightest(rules, windows, now, tokens: true),
            TightestBudget(rules, budgets, admitted ? estimate : 0, request.ChecksBudget),
            second,
            admitted ? periods : [])
        {
            RefusedBy = refusedBy,
        };
    }

    public Task SettleAsync(Lease lease, long? actualTokens, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            for (var i = 0; i < lease.Rules.Length; i++)
            {
                var rule = lease.Rules[i];
                var key = Key(lease.Subject, rule);
                if (rule.Concurrency is not null && _leases.TryGetValue(key, out var open))
                {
                    open.Remove(lease.Request.LeaseId);
                }

                var entry = rule.Budget is not null && lease.Periods.Length > i && lease.Periods[i].Length > 0
                    && _budgets.TryGetValue(key, out var held) && held.Period == lease.Periods[i] ? held : null;
                entry?.Reservations.Remove(lease.Request.LeaseId); // no longer in flight, whatever it is charged
                if (actualTokens is not { } actual || actual == lease.Estimate)
                {
                    continue;
                }

                var delta = actual - lease.Estimate;
                if (entry is not null)
                {
                    entry.Used = Math.Max(0, entry.Used + delta);
                    if (entry.Used == 0 && entry.Reservations.Count == 0)
                    {
                        _budgets.Remove(key); // nothing spent: as if never counted
                    }
                }

                // The correction goes where the reservation was counted; once that second has left the window, only an
                // overrun still matters, and it is counted now.
                if (rule.TokensPerMinute is not null)
                {
                    var second = FloorDiv(now, 1000);
                    var window = WindowOf(key, second);
                    if (window.Tokens.ContainsKey(lease.WindowSecond))
                    {
                        window.Add(window.Tokens, lease.WindowSecond, delta);
                    }
                    else if (delta > 0)
                    {
                        window.Add(window.Tokens, second, delta);
                    }
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task<BudgetState?> ChargeAsync(string subject, LimitRule[] rules, long tokens, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var second = FloorDiv(now, 1000);
            BudgetState? tightest = null;
            foreach (var rule in rules)
            {
                var key = Key(subject, rule);
                if (rule.TokensPerMinute is not null && tokens > 0)
                {
                    var window = WindowOf(key, second);
                    window.Add(window.Tokens, second, tokens);
                }

                if (rule.Budget is { } budget)
                {
                    var (id, endsAt) = LimitStores.Period(rule.BudgetPeriod, second, utcOffsetSeconds);
                    var entry = _budgets.TryGetValue(key, out var held) && held.Period == id ? held : null;
                    var used = (entry?.Used ?? 0) + tokens;
                    if (used > 0)
                    {
                        if (entry is null)
                        {
                            _budgets[key] = entry = new BudgetEntry(id, endsAt);
                        }

                        entry.Used = used;
                    }

                    var state = new BudgetState(budget, budget - used, LimitStores.EndTime(endsAt));
                    tightest = tightest is { } current && current.Left <= state.Left ? current : state;
                }
            }

            return Task.FromResult(tightest);
        }
    }

    public Task RenewAsync(Lease lease, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var expires = now + (long)LimitStores.LeaseTtl.TotalMilliseconds;
            for (var i = 0; i < lease.Rules.Length; i++)
            {
                var rule = lease.Rules[i];
                var key = Key(lease.Subject, rule);
                if (rule.Concurrency is not null && _leases.TryGetValue(key, out var open)
                    && open.ContainsKey(lease.Request.LeaseId))
                {
                    open[lease.Request.LeaseId] = expires;
                }

                // A reservation still in flight stays so; one that lapsed (its instance was frozen past the lease) stays spent only.
                if (lease.ReservedIn(i) is { } period && _budgets.TryGetValue(key, out var entry) && entry.Period == period
                    && entry.Reservations.TryGetValue(lease.Request.LeaseId, out var reservation) && reservation.Expires > now)
                {
                    entry.Reservations[lease.Request.LeaseId] = reservation with { Expires = expires };
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task<RuleReport[]> ShowAsync(string subject, IReadOnlyList<LimitRule> rules, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            var second = FloorDiv(now, 1000);
            return Task.FromResult(rules.Select(rule =>
            {
                var key = Key(subject, rule);
                var window = _windows.TryGetValue(key, out var held) ? held : null;
                var (id, endsAt) = LimitStores.Period(rule.BudgetPeriod, second, utcOffsetSeconds);
                var budget = _budgets.TryGetValue(key, out var entry) && entry.Period == id ? entry : null;
                return new RuleReport(
                    rule,
                    window?.Requests.Where(bucket => bucket.Key >= second - LimitStores.WindowSeconds).Sum(bucket => bucket.Value) ?? 0,
                    window?.Tokens.Where(bucket => bucket.Key >= second - LimitStores.WindowSeconds).Sum(bucket => bucket.Value) ?? 0,
                    _leases.TryGetValue(key, out var open) ? open.Count(lease => lease.Value > now) : 0,
                    budget?.Used ?? 0,
                    LimitStores.EndTime(endsAt))
                {
                    BudgetInFlight = budget?.Reservations.Values.Where(reservation => reservation.Expires > now).Sum(reservation => reservation.Amount) ?? 0,
                };
            }).ToArray());
        }
    }

    public Task<Revocations> ReadRevocationsAsync(long knownVersion, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(new Revocations(_revocationVersion, _revocationVersion == knownVersion ? null : [.. _revoked]));
        }
    }

    public Task<bool> RevokeAsync(string tokenId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var added = _revoked.Add(tokenId);
            _revocationVersion += added ? 1 : 0;
            return Task.FromResult(added);
        }
    }

    private Window WindowOf(string key, long second)
    {
        if (!_windows.TryGetValue(key, out var window))
        {
            _windows[key] = window = new Window();
        }

        window.DropBefore(second - LimitStores.WindowSeconds);
        return window;
    }

    // Live leases of a rule, the lapsed ones dropped.
    private int OpenLeases(string key, long now)
    {
        if (!_leases.TryGetValue(key, out var open))
        {
            return 0;
        }

        foreach (var (lease, expires) in open.ToList())
        {
            if (expires <= now)
            {
                open.Remove(lease);
            }
        }

        return open.Count;
    }

    // Time until enough of the oldest buckets have left the window for what is counted to be at most `allowed`.
    private static long WaitUntil(SortedDictionary<long, long> buckets, long total, long allowed, long now)
    {
        foreach (var (second, count) in buckets)
        {
            total -= count;
            if (total <= allowed)
            {
                return ((second + LimitStores.WindowSeconds + 1) * 1000) - now;
            }
        }

        return 0;
    }

    // Of the rules with this kind of limit, the one with the least remaining, read after the request was counted.
    private static RateWindow? Tightest(LimitRule[] rules, Window?[] windows, long now, bool tokens)
    {
        RateWindow? tightest = null;
        for (var i = 0; i < rules.Length; i++)
        {
            if ((tokens ? rules[i].TokensPerMinute : rules[i].RequestsPerMinute) is not { } limit || windows[i] is not { } window)
            {
                continue;
            }

            var buckets = tokens ? window.Tokens : window.Requests;
            var used = tokens ? window.TokenSum : window.RequestSum;
            var reset = buckets.Count > 0 ? ((buckets.Keys.Last() + LimitStores.WindowSeconds + 1) * 1000) - now : 0;
            var state = new RateWindow(limit, Math.Max(0, limit - used), reset);
            tightest = tightest is { } current && current.Remaining <= state.Remaining ? current : state;
        }

        return tightest;
    }

    private static BudgetState? TightestBudget(LimitRule[] rules, (string Id, long EndsAt, long Used, long InFlight)[] budgets, long reserved, bool checksBudget)
    {
        BudgetState? tightest = null;
        for (var i = 0; i < rules.Length && checksBudget; i++)
        {
            if (rules[i].Budget is { } budget)
            {
                var state = new BudgetState(budget, budget - budgets[i].Used - reserved, LimitStores.EndTime(budgets[i].EndsAt))
                {
                    InFlight = budgets[i].InFlight + reserved,
                };
                tightest = tightest is { } current && current.Left <= state.Left ? current : state;
            }
        }

        return tightest;
    }

    // Every minute at most: drops windows with nothing in them, lease sets with no live lease, budgets of ended periods,
    // and reservations whose lease lapsed.
    private void Sweep(long now, long second)
    {
        if (now < _nextSweepMs)
        {
            return;
        }

        _nextSweepMs = now + (long)SweepEvery.TotalMilliseconds;
        foreach (var (key, window) in _windows.ToList())
        {
            window.DropBefore(second - LimitStores.WindowSeconds);
            if (window.Requests.Count == 0 && window.Tokens.Count == 0)
            {
                _windows.Remove(key);
            }
        }

        foreach (var key in _leases.Keys.ToList())
        {
            if (OpenLeases(key, now) == 0)
            {
                _leases.Remove(key);
            }
        }

        foreach (var (key, entry) in _budgets.ToList())
        {
            if (entry.EndsAt > 0 && entry.EndsAt * 1000 <= now)
            {
                _budgets.Remove(key);
            }
            else
            {
                entry.InFlight(now); // drops the reservations whose lease lapsed
            }
        }
    }

    private static string Key(string subject, LimitRule rule) => subject + "\n" + rule.Scope;

    private static long FloorDiv(long value, long divisor) => (value / divisor) - (value % divisor < 0 ? 1 : 0);

    /// <summary>
    /// A budget's period, its use (what was spent and what is reserved), and the reservations in flight by lease id: each
    /// counts as in flight until it is settled or its lease lapses, and stays in the use until it is settled.
    /// </summary>
    private sealed class BudgetEntry(string period, long endsAt)
    {
        public string Period { get; } = period;

        public long EndsAt { get; } = endsAt;

        public long Used { get; set; }

        public Dictionary<string, (long Amount, long Expires)> Reservations { get; } = new(StringComparer.Ordinal);

        // What the live reservations hold, the lapsed ones dropped (they stay in Used: spent, as far as anyone knows).
        public long InFlight(long now)
        {
            var held = 0L;
            foreach (var (lease, (amount, expires)) in Reservations.ToList())
            {
                if (expires <= now)
                {
                    Reservations.Remove(lease);
                }
                else
                {
                    held += amount;
                }
            }

            return held;
        }
    }

    /// <summary>A rule's 60-second window: requests and tokens per second.</summary>
    private sealed class Window
    {
        public SortedDictionary<long, long> Requests { get; } = [];

        public SortedDictionary<long, long> Tokens { get; } = [];

        public long RequestSum { get; private set; }

        public long TokenSum { get; private set; }

        public void Add(SortedDictionary<long, long> buckets, long second, long count)
        {
            var value = Math.Max(0, (buckets.TryGetValue(second, out var held) ? held : 0) + count);
            var change = value - held;
            buckets[second] = value;
            if (ReferenceEquals(buckets, Requests))
            {
                RequestSum += change;
            }
            else
            {
                TokenSum += change;
            }
        }

        public void DropBefore(long second)
        {
            RequestSum -= Drop(Requests, second);
            TokenSum -= Drop(Tokens, second);
        }

        private static long Drop(SortedDictionary<long, long> buckets, long second)
        {
            var dropped = 0L;
            while (buckets.Count > 0 && buckets.First() is var (oldest, count) && oldest < second)
            {
                buckets.Remove(oldest);
                dropped += count;
            }

            return dropped;
        }
    }
}
