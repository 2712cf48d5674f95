using System.Globalization;
using StackExchange.Redis;

namespace FcHandler.Limits;

/// <summary>
/// Counters every instance shares, in a Redis-protocol store (Tair on Alibaba Cloud, or any Redis or Valkey): each
/// decision is one of <see cref="RedisLimitScripts"/>, sent with plain key and argument arrays (NativeAOT: no
/// <c>LuaScript.Prepare</c>, whose parameter mapping needs reflection). The library loads each script once and then
/// sends only its hash, and sends the script again if the store forgot it (a restart). Failures throw.
/// </summary>
internal sealed class RedisLimitStore(RedisConnection connection, int utcOffsetSeconds) : ILimitStore
{
    private const string KeyPrefix = "fcp:";
    private static readonly RedisKey[] RevocationKeys = [KeyPrefix + "{revoked}:ids", KeyPrefix + "{revoked}:version"];

    public string Name => connection.Address.ToString();

    /// <summary>Added to the store's clock by every script; only tests set it, to cross windows and periods without waiting.</summary>
    internal long ClockSkewMs { get; set; }

    public async Task<AdmissionResult> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        var rules = request.Rules;
        var args = new List<RedisValue>(7 + (rules.Length * 5))
        {
            ClockSkewMs,
            request.LeaseId,
            (long)LimitStores.LeaseTtl.TotalMilliseconds,
            request.Estimate,
            request.ChecksBudget ? 1 : 0,
            utcOffsetSeconds,
            rules.Length,
        };
        foreach (var rule in rules)
        {
            args.Add(rule.RequestsPerMinute ?? -1);
            args.Add(rule.TokensPerMinute ?? -1);
            args.Add(rule.Concurrency ?? -1);
            args.Add(rule.Budget ?? -1);
            args.Add(PeriodName(rule.BudgetPeriod));
        }

        var result = await EvaluateAsync(RedisLimitScripts.Admit, Keys(request.Subject, rules), [.. args]).ConfigureAwait(false);
        var values = (RedisResult[])result!;
        var verdict = (Verdict)(long)values[0];
        return new AdmissionResult(
            verdict,
            (long)values[1],
            Window(values, 2),
            Window(values, 5),
            Budget(values, 9) is { } budget ? budget with { InFlight = (long)values[12] } : null,
            (long)values[8],
            verdict == Verdict.Admitted ? [.. values.Skip(14).Select(value => (string?)value ?? "")] : [])
        {
            RefusedBy = (long)values[13] is var by and > 0 ? rules[(int)by - 1] : null,
        };
    }

    public async Task SettleAsync(Lease lease, long? actualTokens, CancellationToken cancellationToken)
    {
        var rules = lease.Rules;
        var args = new List<RedisValue>(6 + (rules.Length * 3))
        {
            ClockSkewMs,
            lease.Request.LeaseId,
            lease.Estimate,
            actualTokens ?? -1,
            lease.WindowSecond,
            rules.Length,
        };
        for (var i = 0; i < rules.Length; i++)
        {
            args.Add(rules[i].TokensPerMinute is null ? 0 : 1);
            args.Add(rules[i].Concurrency is null ? 0 : 1);
            args.Add(i < lease.Periods.Length ? lease.Periods[i] : "");
        }

        await EvaluateAsync(RedisLimitScripts.Settle, Keys(lease.Subject, rules), [.. args]).ConfigureAwait(false);
    }

    public async Task<BudgetState?> ChargeAsync(string subject, LimitRule[] rules, long tokens, CancellationToken cancellationToken)
    {
        var args = new List<RedisValue>(4 + (rules.Length * 3)) { ClockSkewMs, tokens, utcOffsetSeconds, rules.Length };
        foreach (var rule in rules)
        {
            args.Add(rule.TokensPerMinute is null ? 0 : 1);
            args.Add(rule.Budget ?? -1);
            args.Add(PeriodName(rule.BudgetPeriod));
        }

        var result = await EvaluateAsync(RedisLimitScripts.Charge, Keys(subject, rules), [.. args]).ConfigureAwait(false);
        return Budget((RedisResult[])result!, 0);
    }

    public async Task RenewAsync(Lease lease, CancellationToken cancellationToken)
    {
        var leases = lease.Rules.Where(rule => rule.Concurrency is not null).Select(rule => Key(lease.Subject, rule, "leases")).ToList();
        var reservations = lease.Rules.Index().Where(rule => lease.ReservedIn(rule.Index) is not null).ToList();
        if (leases.Count + reservations.Count > 0)
        {
            RedisKey[] keys = [.. leases, .. reservations.Select(rule => Key(lease.Subject, rule.Item, "held"))];
            RedisValue[] args =
            [
                ClockSkewMs, lease.Request.LeaseId, (long)LimitStores.LeaseTtl.TotalMilliseconds, leases.Count,
                .. reservations.Select(rule => (RedisValue)ReservationMember(lease.ReservedIn(rule.Index)!, lease)),
            ];
            await EvaluateAsync(RedisLimitScripts.Renew, keys, args).ConfigureAwait(false);
        }
    }

    public async Task<RuleReport[]> ShowAsync(string subject, IReadOnlyList<LimitRule> rules, CancellationToken cancellationToken)
    {
        RedisValue[] args = [ClockSkewMs, utcOffsetSeconds, rules.Count, .. rules.Select(rule => (RedisValue)PeriodName(rule.BudgetPeriod))];
        var values = (RedisResult[])(await EvaluateAsync(RedisLimitScripts.Show, Keys(subject, [.. rules]), args).ConfigureAwait(false))!;
        return [.. rules.Select((rule, i) => new RuleReport(
            rule,
            (long)values[i * 6],
            (long)values[(i * 6) + 1],
            (long)values[(i * 6) + 2],
            (long)values[(i * 6) + 3],
            LimitStores.EndTime((long)values[(i * 6) + 4]))
        {
            BudgetInFlight = (long)values[(i * 6) + 5],
        })];
    }

    public async Task<Revocations> ReadRevocationsAsync(long knownVersion, CancellationToken cancellationToken)
    {
        var values = (RedisResult[])(await EvaluateAsync(RedisLimitScripts.ReadRevocations, RevocationKeys, [knownVersion]).ConfigureAwait(false))!;
        var version = long.Parse((string)values[0]!, NumberStyles.None, CultureInfo.InvariantCulture);
        return new Revocations(version, values.Length == 1 && version == knownVersion ? null : [.. values.Skip(1).Select(value => (string)value!)]);
    }

    public async Task<bool> RevokeAsync(string tokenId, CancellationToken cancellationToken)
        => (long)(await EvaluateAsync(RedisLimitScripts.Revoke, RevocationKeys, [tokenId]).ConfigureAwait(false)) == 1;

    private async Task<RedisResult> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] args)
    {
        var multiplexer = await connection.Multiplexer.ConfigureAwait(false);
        return await multiplexer.GetDatabase().ScriptEvaluateAsync(script, keys, args).ConfigureAwait(false);
    }

    /// <summary>
    /// The keys of each rule: rate window, leases, budget, the budget's reservations in flight. All carry the subject as
    /// their hash tag, so a cluster keeps them on one shard and a script may use them together.
    /// </summary>
    internal static RedisKey[] Keys(string subject, LimitRule[] rules)
    {
        var keys = new RedisKey[rules.Length * 4];
        for (var i = 0; i < rules.Length; i++)
        {
            keys[i * 4] = Key(subject, rules[i], "rate");
            keys[(i * 4) + 1] = Key(subject, rules[i], "leases");
            keys[(i * 4) + 2] = Key(subject, rules[i], "budget");
            keys[(i * 4) + 3] = Key(subject, rules[i], "held");
        }

        return keys;
    }

    // A reservation in flight as the Admit script names it: its period, lease id and amount.
    private static string ReservationMember(string period, Lease lease)
        => string.Create(CultureInfo.InvariantCulture, $"{period}|{lease.Request.LeaseId}|{lease.Estimate}");

    private static RedisKey Key(string subject, LimitRule rule, string part) => $"{KeyPrefix}{{{subject}}}:{rule.Scope}:{part}";

    internal static string PeriodName(BudgetPeriod period) => period switch
    {
        BudgetPeriod.Day => "day",
        BudgetPeriod.Month => "month",
        _ => "total",
    };

    private static RateWindow? Window(RedisResult[] values, int at)
        => (long)values[at] < 0 ? null : new RateWindow((long)values[at], (long)values[at + 1], (long)values[at + 2]);

    private static BudgetState? Budget(RedisResult[] values, int at)
        => (long)values[at] < 0 ? null : new BudgetState((long)values[at], (long)values[at + 1], LimitStores.EndTime((long)values[at + 2]));
}
