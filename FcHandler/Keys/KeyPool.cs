using FcHandler.Logging;

namespace FcHandler.Keys;

/// <summary>
/// The server's keys and how each is doing. A subject goes to the key that ranks highest for it (<see cref="Rendezvous"/>)
/// among those in service; a key that answers with a rate limit, a refusal or a failure rests for a while
/// (<see cref="KeyCooldowns"/>), and when its rest ends exactly one request tries it (the probe) while every other
/// request keeps to the key it had: the probe's answer puts it back in service or sends it to rest again. When every key
/// rests, the one whose rest ends first is used anyway, so the pool never refuses a request itself. With
/// <c>LIMITS_STORE</c> set, rests are shared through <see cref="SharedKeyCooldowns"/>. One log line per key entering or
/// leaving a rest. A pool of one key does none of this: it is used, always, as <c>OPENAI_API_KEY</c> always was.
/// </summary>
internal sealed class KeyPool
{
    /// <summary>A probe whose request never reported back (an instance frozen mid-request) frees the key after this.</summary>
    private static readonly TimeSpan ProbeExpiry = TimeSpan.FromMinutes(2);

    private readonly KeyState[] _states;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();

    public KeyPool(IReadOnlyList<UpstreamKey> keys, TimeProvider time, ILogger<KeyPool> logger)
    {
        Keys = keys;
        _states = [.. keys.Select(key => new KeyState(key))];
        _time = time;
        _logger = logger;
    }

    public IReadOnlyList<UpstreamKey> Keys { get; }

    /// <summary>More than one key: choosing, failover and cooldowns apply.</summary>
    public bool IsPool => Keys.Count > 1;

    /// <summary>Where cooldowns are shared with other instances; null without <c>LIMITS_STORE</c>.</summary>
    public SharedKeyCooldowns? Shared { get; set; }

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// The keys to try for <paramref name="subject"/>, in order: those in service by rank, a rested key first when this
    /// request wins its probe; or, when every key rests, the one whose rest ends first. Never empty.
    /// </summary>
    public KeyChoice[] Choose(string subject)
    {
        Shared?.RefreshIfDue(this);
        var now = NowMs;
        Span<ulong> scores = stackalloc ulong[_states.Length];
        Span<int> order = stackalloc int[_states.Length];
        for (var i = 0; i < _states.Length; i++)
        {
            scores[i] = Rendezvous.Score(_states[i].Key.Seed, subject);
            order[i] = i;
        }

        // Highest score first; a handful of keys, so an insertion sort.
        for (var i = 1; i < order.Length; i++)
        {
            for (var j = i; j > 0 && scores[order[j]] > scores[order[j - 1]]; j--)
            {
                (order[j], order[j - 1]) = (order[j - 1], order[j]);
            }
        }

        var choices = new List<KeyChoice>(_states.Length);
        foreach (var index in order)
        {
            var state = _states[index];
            var until = Volatile.Read(ref state.CoolUntilMs);
            if (until == 0)
            {
                choices.Add(new KeyChoice(index, state.Key, Probe: false));
            }
            else if (until <= now && TryClaimProbe(state, now))
            {
                choices.Add(new KeyChoice(index, state.Key, Probe: true));
            }
        }

        if (choices.Count == 0)
        {
            var soonest = 0;
            for (var i = 1; i < _states.Length; i++)
            {
                soonest = Volatile.Read(ref _states[i].CoolUntilMs) < Volatile.Read(ref _states[soonest].CoolUntilMs) ? i : soonest;
            }

            choices.Add(new KeyChoice(soonest, _states[soonest].Key, Probe: false));
        }

        return [.. choices];
    }

    /// <summary>What an attempt with <paramref name="choice"/> said about its key.</summary>
    public void Report(KeyChoice choice, KeyVerdict verdict, string requestId)
    {
        var state = _states[choice.Index];
        switch (verdict.Health)
        {
            case KeyHealth.Works:
                if (Volatile.Read(ref state.CoolUntilMs) != 0)
                {
                    Restore(state, choice.Probe ? "its probe request was answered" : "a request with it was answered", share: true);
                }

                break;
            case KeyHealth.Unknown:
                Release(choice);
                break;
            default:
                CoolDown(state, verdict, requestId);
                break;
        }
    }

    /// <summary>A chosen key that was not tried, or whose attempt said nothing about it: its probe, if it held one, is free again.</summary>
    public void Release(KeyChoice choice)
    {
        if (choice.Probe)
        {
            Volatile.Write(ref _states[choice.Index].Probing, 0);
        }
    }

    /// <summary>Each key's state now, for the start-up line and tests.</summary>
    public IReadOnlyList<(UpstreamKey Key, TimeSpan Remaining, string Reason)> Snapshot()
    {
        var now = NowMs;
        lock (_lock)
        {
            return [.. _states.Select(state => (state.Key, TimeSpan.FromMilliseconds(Math.Max(0, state.CoolUntilMs - now)), state.Reason))];
        }
    }

    /// <summary>Another instance put key <paramref name="index"/> to rest for <paramref name="remaining"/> (by the store's clock).</summary>
    internal void Adopt(int index, TimeSpan remaining, string reason)
    {
        var state = _states[index];
        var until = NowMs + (long)remaining.TotalMilliseconds;
        lock (_lock)
        {
            state.Shared = true;
            if (state.CoolUntilMs != 0 && state.CoolUntilMs >= until - 1000)
            {
                return; // already resting as long, give or take the refresh's delay
            }

            var entering = state.CoolUntilMs == 0;
            state.CoolUntilMs = until;
            state.Reason = reason;
            if (entering)
            {
                ProxyLog.KeyCoolingDownShared(_logger, state.Key.Label, remaining.TotalSeconds, reason);
            }
        }
    }

    /// <summary>The store holds no rest for key <paramref name="index"/>: one it had shared has ended or was lifted by another instance.</summary>
    internal void AdoptNone(int index)
    {
        var state = _states[index];
        if (Volatile.Read(ref state.CoolUntilMs) != 0 && state.Shared)
        {
            Restore(state, "the shared store no longer holds its cooldown (it ended, or another instance's request was answered)", share: false);
        }
    }

    internal UpstreamKey KeyAt(int index) => _states[index].Key;

    private bool TryClaimProbe(KeyState state, long now)
    {
        if (Interlocked.CompareExchange(ref state.Probing, 1, 0) == 0)
        {
            Volatile.Write(ref state.ProbeClaimedMs, now);
            return true;
        }

        // A claim nobody reported on: take it over.
        var claimed = Volatile.Read(ref state.ProbeClaimedMs);
        return now - claimed > ProbeExpiry.TotalMilliseconds
            && Interlocked.CompareExchange(ref state.ProbeClaimedMs, now, claimed) == claimed;
    }

    private void CoolDown(KeyState state, KeyVerdict verdict, string requestId)
    {
        TimeSpan rest;
        bool entering;
        lock (_lock)
        {
            state.Strikes++;
            rest = verdict.Health switch
            {
                KeyHealth.RateLimited => verdict.Cooldown,
                KeyHealth.Refused => KeyCooldowns.Escalated(KeyCooldowns.Refused, KeyCooldowns.MaxRefused, state.Strikes),
                _ => KeyCooldowns.Escalated(KeyCooldowns.Failing, KeyCooldowns.MaxFailing, state.Strikes),
            };
            var until = NowMs + (long)rest.TotalMilliseconds;

            // A probe refused again, or a key in service: a new rest, logged. Requests already under way with a resting key
            // only lengthen its rest, silently.
            entering = state.CoolUntilMs == 0 || Volatile.Read(ref state.Probing) == 1;
            if (until > state.CoolUntilMs)
            {
                state.CoolUntilMs = until;
                state.Reason = verdict.Reason;
            }

            state.Probing = 0;
            state.Shared = false;
        }

        if (entering)
        {
            if (verdict.Health == KeyHealth.Refused)
            {
                ProxyLog.KeyRefused(_logger, state.Key.Label, rest.TotalSeconds, verdict.Reason, requestId);
            }
            else
            {
                ProxyLog.KeyCoolingDown(_logger, state.Key.Label, rest.TotalSeconds, verdict.Reason, requestId);
            }
        }

        Shared?.Publish(Array.IndexOf(_states, state), rest, verdict.Reason);
    }

    private void Restore(KeyState state, string why, bool share)
    {
        string reason;
        lock (_lock)
        {
            if (state.CoolUntilMs == 0)
            {
                return;
            }

            reason = state.Reason;
            state.CoolUntilMs = 0;
            state.Strikes = 0;
            state.Probing = 0;
            state.Shared = false;
        }

        ProxyLog.KeyBackInService(_logger, state.Key.Label, why, reason);
        if (share)
        {
            Shared?.Lift(Array.IndexOf(_states, state));
        }
    }

    private sealed class KeyState(UpstreamKey key)
    {
        public readonly UpstreamKey Key = key;

        /// <summary>When its rest ends (Unix ms), or 0 while in service.</summary>
        public long CoolUntilMs;

        /// <summary>1 while one request probes it.</summary>
        public int Probing;

        public long ProbeClaimedMs;

        /// <summary>Refusals or failures in a row, which lengthen the next rest.</summary>
        public int Strikes;

        public string Reason = "";

        /// <summary>Its rest is in the shared store (published, or adopted from it).</summary>
        public bool Shared;
    }
}
